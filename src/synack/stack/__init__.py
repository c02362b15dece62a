"""The stack: hosts, demultiplexing, listeners, ports and counters."""

from synack.stack.host import Host
from synack.stack.listener import Listener
from synack.stack.socket import TcpHandle

__all__ = ["Host", "Listener", "TcpHandle"]
