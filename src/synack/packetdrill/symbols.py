"""Symbolic names a script may use, with their Linux values, and evaluation of syscall
argument expressions to integers.

Values are Linux's (x86-64 and the generic ABI: ``include/uapi/asm-generic/socket.h``,
``include/uapi/linux/tcp.h``, ``include/uapi/asm-generic/fcntl.h``, ``poll.h``), as
packetdrill's symbols_linux.c lists them.  Errno names come from Python's ``errno``
module, which synack itself uses for the errors it reports.
"""

from __future__ import annotations

import errno as errno_mod

from synack.packetdrill import script as s
from synack.packetdrill.errors import PacketdrillError

SYMBOLS: dict[str, int] = {
    # address families and socket types (socket.h)
    "AF_UNSPEC": 0,
    "AF_INET": 2,
    "AF_INET6": 10,
    "PF_INET": 2,
    "PF_INET6": 10,
    "SOCK_STREAM": 1,
    "SOCK_DGRAM": 2,
    "SOCK_RAW": 3,
    "SOCK_NONBLOCK": 0o4000,
    "SOCK_CLOEXEC": 0o2000000,
    "IPPROTO_IP": 0,
    "IPPROTO_ICMP": 1,
    "IPPROTO_TCP": 6,
    "IPPROTO_UDP": 17,
    "IPPROTO_IPV6": 41,
    "IPPROTO_ICMPV6": 58,
    # socket option levels and names
    "SOL_SOCKET": 1,
    "SOL_IP": 0,
    "SOL_TCP": 6,
    "SOL_UDP": 17,
    "SOL_IPV6": 41,
    "SO_DEBUG": 1,
    "SO_REUSEADDR": 2,
    "SO_TYPE": 3,
    "SO_ERROR": 4,
    "SO_DONTROUTE": 5,
    "SO_BROADCAST": 6,
    "SO_SNDBUF": 7,
    "SO_RCVBUF": 8,
    "SO_KEEPALIVE": 9,
    "SO_OOBINLINE": 10,
    "SO_NO_CHECK": 11,
    "SO_PRIORITY": 12,
    "SO_LINGER": 13,
    "SO_REUSEPORT": 15,
    "SO_RCVLOWAT": 18,
    "SO_SNDLOWAT": 19,
    "SO_RCVTIMEO": 20,
    "SO_SNDTIMEO": 21,
    "SO_SNDBUFFORCE": 32,
    "SO_RCVBUFFORCE": 33,
    "SO_MARK": 36,
    "SO_TIMESTAMPING": 37,
    "SO_MAX_PACING_RATE": 47,
    "SO_ZEROCOPY": 60,
    "IP_TOS": 1,
    "IP_TTL": 2,
    "IP_MTU_DISCOVER": 10,
    "IP_RECVERR": 11,
    "IP_MTU": 14,
    "TCP_NODELAY": 1,
    "TCP_MAXSEG": 2,
    "TCP_CORK": 3,
    "TCP_KEEPIDLE": 4,
    "TCP_KEEPINTVL": 5,
    "TCP_KEEPCNT": 6,
    "TCP_SYNCNT": 7,
    "TCP_LINGER2": 8,
    "TCP_DEFER_ACCEPT": 9,
    "TCP_WINDOW_CLAMP": 10,
    "TCP_INFO": 11,
    "TCP_QUICKACK": 12,
    "TCP_CONGESTION": 13,
    "TCP_MD5SIG": 14,
    "TCP_THIN_LINEAR_TIMEOUTS": 16,
    "TCP_THIN_DUPACK": 17,
    "TCP_USER_TIMEOUT": 18,
    "TCP_REPAIR": 19,
    "TCP_REPAIR_QUEUE": 20,
    "TCP_QUEUE_SEQ": 21,
    "TCP_REPAIR_OPTIONS": 22,
    "TCP_FASTOPEN": 23,
    "TCP_TIMESTAMP": 24,
    "TCP_NOTSENT_LOWAT": 25,
    "TCP_CC_INFO": 26,
    "TCP_SAVE_SYN": 27,
    "TCP_SAVED_SYN": 28,
    "TCP_REPAIR_WINDOW": 29,
    "TCP_FASTOPEN_CONNECT": 30,
    "TCP_ULP": 31,
    "TCP_MD5SIG_EXT": 32,
    "TCP_FASTOPEN_KEY": 33,
    "TCP_FASTOPEN_NO_COOKIE": 34,
    "TCP_ZEROCOPY_RECEIVE": 35,
    "TCP_INQ": 36,
    "TCP_TX_DELAY": 37,
    # fcntl
    "F_GETFD": 1,
    "F_SETFD": 2,
    "F_GETFL": 3,
    "F_SETFL": 4,
    "FD_CLOEXEC": 1,
    "O_RDONLY": 0,
    "O_WRONLY": 1,
    "O_RDWR": 2,
    "O_NONBLOCK": 0o4000,
    # shutdown
    "SHUT_RD": 0,
    "SHUT_WR": 1,
    "SHUT_RDWR": 2,
    # send/recv flags
    "MSG_OOB": 0x1,
    "MSG_PEEK": 0x2,
    "MSG_DONTROUTE": 0x4,
    "MSG_CTRUNC": 0x8,
    "MSG_TRUNC": 0x20,
    "MSG_DONTWAIT": 0x40,
    "MSG_EOR": 0x80,
    "MSG_WAITALL": 0x100,
    "MSG_ERRQUEUE": 0x2000,
    "MSG_NOSIGNAL": 0x4000,
    "MSG_MORE": 0x8000,
    "MSG_ZEROCOPY": 0x4000000,
    "MSG_FASTOPEN": 0x20000000,
    # poll
    "POLLIN": 0x1,
    "POLLPRI": 0x2,
    "POLLOUT": 0x4,
    "POLLERR": 0x8,
    "POLLHUP": 0x10,
    "POLLNVAL": 0x20,
    "POLLRDNORM": 0x40,
    "POLLRDBAND": 0x80,
    "POLLWRNORM": 0x100,
    "POLLWRBAND": 0x200,
    "POLLMSG": 0x400,
    "POLLRDHUP": 0x2000,
    # ioctl
    "SIOCINQ": 0x541B,
    "FIONREAD": 0x541B,
    "SIOCOUTQ": 0x5411,
    "SIOCOUTQNSD": 0x894B,
}

#: tcpi_state values (include/net/tcp_states.h).
TCP_STATES: dict[str, int] = {
    "ESTABLISHED": 1,
    "SYN_SENT": 2,
    "SYN_RECEIVED": 3,
    "FIN_WAIT_1": 4,
    "FIN_WAIT_2": 5,
    "TIME_WAIT": 6,
    "CLOSED": 7,
    "CLOSE_WAIT": 8,
    "LAST_ACK": 9,
    "LISTEN": 10,
    "CLOSING": 11,
}


class EvalError(PacketdrillError):
    """An argument could not be turned into a value (unknown symbol, wrong shape)."""


def errno_value(name: str) -> int:
    """The number of an errno macro such as ``EPIPE``."""
    value = getattr(errno_mod, name, None)
    if not isinstance(value, int) or not name.startswith("E"):
        raise EvalError(f"unknown errno symbol: {name}")
    return value


def symbol_value(name: str) -> int:
    if name in SYMBOLS:
        return SYMBOLS[name]
    if name.startswith("E") and isinstance(getattr(errno_mod, name, None), int):
        return errno_value(name)
    raise EvalError(f"unknown symbol: '{name}'")


def to_int(expr: s.Expr) -> int:
    """An integer argument: a number, a symbol or an OR of them (``O_RDWR|O_NONBLOCK``)."""
    if isinstance(expr, s.Int):
        return expr.value
    if isinstance(expr, s.Word):
        return symbol_value(expr.name)
    if isinstance(expr, s.BinOp) and expr.op == "|":
        return to_int(expr.lhs) | to_int(expr.rhs)
    raise EvalError(f"expected an integer expression, got {describe(expr)}")


def bracketed_int(expr: s.Expr) -> int:
    """``[1]``: the int an option pointer points at (packetdrill s32_bracketed_arg)."""
    if isinstance(expr, s.ListExpr) and len(expr.items) == 1:
        return to_int(expr.items[0])
    raise EvalError(f"expected [integer], got {describe(expr)}")


def describe(expr: s.Expr) -> str:
    """The expression as a script would write it (for error messages)."""
    if isinstance(expr, s.Ellipsis_):
        return "..."
    if isinstance(expr, s.Int):
        return hex(expr.value) if expr.hex else str(expr.value)
    if isinstance(expr, s.Word):
        return expr.name
    if isinstance(expr, s.Str):
        return f'"{expr.value}"' + ("..." if expr.ellipsis else "")
    if isinstance(expr, s.BinOp):
        return f"{describe(expr.lhs)}{expr.op}{describe(expr.rhs)}"
    if isinstance(expr, s.Field):
        arg = f"({describe(expr.arg)})" if expr.arg is not None else ""
        return f"{expr.name}{arg}={describe(expr.value)}"
    if isinstance(expr, s.ListExpr):
        return "[" + ", ".join(describe(i) for i in expr.items) + "]"
    if isinstance(expr, s.Struct):
        return "{" + ", ".join(describe(i) for i in expr.items) + "}"
    return f"{expr.name}(" + ", ".join(describe(a) for a in expr.args) + ")"
