"""Load shedding: the upload endpoints refuse work beyond bounds on the images and pixels in flight.

Without the bounds the batcher's queue grows without limit under overload, and
every request waits longer until all of them time out. With them, a request that
would pass a bound is answered 503 at once, with a ``Retry-After`` header, and
the requests already admitted are served as before.

A request is admitted twice. At the door (``service.middleware.AdmissionMiddleware``),
before a byte of its body is read, it is refused when no room is left, and otherwise it
holds one image's room while its body arrives, so that a burst of uploads cannot all
get past the door of a nearly full queue and be read only to be refused. Once its images'
headers are read, the endpoint replaces that hold with the request's real cost
(``Ticket.admit``): its images, and their pixels, which is what decoding them costs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from service.asgi import RETRY_AFTER_S, retry_after
from service.errors import ServiceError


def _overloaded(what: str) -> ServiceError:
    return ServiceError(503, f"overloaded: {what}; retry in {RETRY_AFTER_S} s", "overloaded", headers=retry_after())


class Admission:
    """Images and pixels admitted and not yet answered (being read, decoded, queued or recognized).

    Used from the event loop only (never from worker threads), so plain counters need no lock.
    """

    def __init__(self, max_images: int, max_pixels: int) -> None:
        self.max_images = max_images
        self.max_pixels = max_pixels
        self.images = 0
        self.pixels = 0

    def enter(self) -> Ticket:
        """The door: one image's room for a request whose body is about to be read; 503 when there is none."""
        if self.images >= self.max_images or self.pixels >= self.max_pixels:
            raise _overloaded(self.waiting())
        ticket = Ticket(self)
        ticket.admit(1, 0)
        return ticket

    def waiting(self) -> str:
        return (
            f"{self.images} images of {self.pixels} pixels are waiting and the limits are "
            f"{self.max_images} images and {self.max_pixels} pixels"
        )


class Ticket:
    """The room one request holds in an ``Admission``, until ``release``."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self.images = 0
        self.pixels = 0

    def admit(self, images: int, pixels: int) -> None:
        """Hold room for ``images`` of ``pixels`` in all instead of what is held; 503 when they do not fit."""
        admission = self._admission
        if (
            admission.images - self.images + images > admission.max_images
            or admission.pixels - self.pixels + pixels > admission.max_pixels
        ):
            raise _overloaded(admission.waiting())
        admission.images += images - self.images
        admission.pixels += pixels - self.pixels
        self.images, self.pixels = images, pixels

    def release(self) -> None:
        self._admission.images -= self.images
        self._admission.pixels -= self.pixels
        self.images = self.pixels = 0


class Slots:
    """At most ``limit`` requests of one kind at once; 503 for the next one."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.taken = 0

    @contextlib.contextmanager
    def take(self) -> Iterator[None]:
        if self.taken >= self.limit:
            raise ServiceError(
                503,
                f"busy: {self.taken} {self.what} requests are running, the limit; retry in {RETRY_AFTER_S} s",
                "busy",
                headers=retry_after(),
            )
        self.taken += 1
        try:
            yield
        finally:
            self.taken -= 1
