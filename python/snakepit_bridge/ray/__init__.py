"""Ray backend (optional ``ray``): a pool's workers as Ray actors.

``driver.py`` is the one process per pool that talks to the cluster (``python -m snakepit_bridge.ray.driver``,
spawned by the host); ``actor.py`` is the actor each worker runs in. Nothing here imports ``ray`` at module level:
the package is imported only by those two processes.
"""
