"""snakepit adapter exposing bench_funcs as tools (one thin method each, as a user would write it)."""
from snakepit_bridge import BaseAdapter, tool

import bench_funcs as f


class BenchAdapter(BaseAdapter):
    @tool
    def add(self, a, b):
        return f.add(a, b)

    @tool
    def sum_list(self, values):
        return f.sum_list(values)

    @tool
    def sum_f64(self, data):
        return f.sum_f64(data)

    @tool
    def double_f64(self, data):
        return f.double_f64(data)

    @tool
    def table_roundtrip(self, frame):
        """A table arrives as a pandas DataFrame; it goes back as an Arrow table."""
        from snakepit_bridge.channel.arrow import ArrowValue

        return ArrowValue(frame)

    @tool
    def cpu(self, ms):
        return f.cpu(ms)

    @tool
    def sleep(self, ms):
        return f.sleep(ms)

    @tool(supports_streaming=True)
    def stream(self, n):
        return f.stream(n)

    @tool
    def echo_bytes(self, data):
        return f.echo_bytes(data)

    @tool
    def pid(self):
        return f.pid()

    @tool
    def die(self):
        return f.die()

    @tool
    def fail(self):
        return f.fail()

    @tool
    def bump(self):
        """A counter kept in the session (ctx.store): how far the session's state goes."""
        count = (self.session_context.retrieve("count") or 0) + 1
        self.session_context.store("count", count)
        return count
