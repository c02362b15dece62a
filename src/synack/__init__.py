"""synack: an RFC-exact TCP/IP stack in pure Python that you can watch, break and trust.

The TCP core (:mod:`synack.tcp`) is sans-IO: it takes segments, user calls and ``now``
and returns segments, events and its next deadline.  Around it sit the wire codecs
(:mod:`synack.wire`), the stack (:mod:`synack.stack`), the simulated network
(:mod:`synack.sim`) and the observers (:mod:`synack.trace`).
"""

__version__ = "0.1.0"
