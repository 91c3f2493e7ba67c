"""Load shedding: ``/v1/recognize`` and ``/v1/explain`` refuse work beyond a bound on the images in flight.

Without the bound the batcher's queue grows without limit under overload, and
every request waits longer until all of them time out. With it, a request that
would pass the bound is answered 503 at once, with a ``Retry-After`` header, and
the requests already admitted are served as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from service.errors import ServiceError

# The smallest whole number of seconds: the queue drains continuously, so room comes back within
# a second of a refusal unless the server is saturated; clients should come back soon.
RETRY_AFTER_S = 1


class PendingImages:
    """Images admitted and not yet answered (decoding, queued or being read).

    Used from the event loop only (admission and release are in coroutines,
    never in worker threads), so a plain counter needs no lock.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    @contextlib.contextmanager
    def admit(self, images: int) -> Iterator[None]:
        """Hold room for ``images`` until the block ends; 503 when there is none."""
        if self.count + images > self.limit:
            raise ServiceError(
                503,
                f"overloaded: {self.count} images are waiting and the limit is {self.limit}; "
                f"retry in {RETRY_AFTER_S} s",
                "overloaded",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        self.count += images
        try:
            yield
        finally:
            self.count -= images
