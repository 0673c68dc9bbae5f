"""The local channel: length-prefixed frames (framing), message codecs (codec), the socket (connection).

See docs/PROTOCOL.md sections 1-3.
"""
