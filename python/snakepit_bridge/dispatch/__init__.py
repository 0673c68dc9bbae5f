"""The worker: the main loop (worker.py), the reader thread (reader.py), running tools (invoke.py,
aio.py), cancellation (interrupt.py), host-tool calls (host_calls.py) and log forwarding (logs.py)."""
