"""A kernel client whose waits for messages never miss one for long.

nbclient waits for a cell's reply with one `get_msg(timeout=cell timeout)`. On an asyncio
loop, pyzmq learns that a message arrived from an edge-triggered file descriptor; when that
wake-up is missed (it happens now and then on a loaded machine), the wait sleeps on with the
message already queued, and only the final check at the timeout finds it: the cell "hangs"
for the whole cell timeout, then goes on as if nothing happened. Waiting in slices of at
most a second bounds such a stall to that second, since every slice ends with that check.
"""
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type

__all__ = ["SlicedKernelClient", "get_in_slices"]

SLICE_SECONDS = 1.0


async def get_in_slices(get, timeout, slice_seconds=SLICE_SECONDS):
    """Await `get(timeout=s)` with s <= slice_seconds until it returns a message; raise
    Empty once `timeout` seconds have passed (None: wait as long as it takes)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = slice_seconds if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            return await get(timeout=min(slice_seconds, left))
        except Empty:
            if deadline is not None and time.monotonic() >= deadline:
                raise


class _SlicedChannel(AsyncZMQSocketChannel):
    async def get_msg(self, timeout=None):
        return await get_in_slices(super().get_msg, timeout)


class SlicedKernelClient(AsyncKernelClient):
    """nbclient's kernel client, with shell and iopub waits cut into one-second slices."""

    shell_channel_class = Type(_SlicedChannel)
    iopub_channel_class = Type(_SlicedChannel)
