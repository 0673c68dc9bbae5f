"""gRPC for snakepit_bridge (optional: needs grpcio and protobuf, imported only here).

- ``serve.py``: ``python -m snakepit_bridge serve --grpc HOST:PORT`` — remote workers, one process per stream
  (``relay.py``, ``child.py``), secure by default (``security.py``);
- ``snakepit_mode.py``: ``python -m snakepit_bridge snakepit`` — one worker in Snakepit's style, its RPCs served
  by ``snakepit_service.py`` over a ``mini_host.MiniHost``, values per ``snakepit_values.py``;
- ``proto.py``: ``snakepit_bridge.proto`` parsed at run time (no generated code).
"""
