"""Load shedding: the upload endpoints refuse work beyond bounds on what is in flight.

Without the bounds the model queue grows without limit under overload, and
every request waits longer until all of them time out. With them, a request that
would pass a bound is answered 503 at once, with a ``Retry-After`` header, and
the requests already admitted are served as before.

A request is looked at twice. At the door (``service.middleware.AdmissionMiddleware``),
before a byte of its body is read, it is refused when a budget it would draw on is already
full; it holds nothing while its body arrives, so that a slow sender costs only its own
connection (the body has its own bounds, in ``service.middleware.BodyGuardMiddleware``).
Once its body is in and its images' headers are read, the endpoint takes the request's real
cost (``Ticket.hold``): its images, and their pixels, which is what decoding them costs; a
photo's text lines once they have been found, which is what reading it costs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping

from service.early_answers import RETRY_AFTER_S, retry_after
from service.errors import ServiceError
from service.settings import ServiceSettings


def overloaded(what: str) -> ServiceError:
    return ServiceError(503, f"overloaded: {what}; retry in {RETRY_AFTER_S} s", "overloaded", headers=retry_after())


class Budget:
    """One bounded quantity of admitted and not yet answered work: images, or the pixels of one kind of image.

    Used from the event loop only (never from worker threads), so a plain counter needs no lock.
    """

    def __init__(self, what: str, limit: int) -> None:
        self.what = what
        self.limit = limit
        self.used = 0

    @property
    def full(self) -> bool:
        return self.used >= self.limit

    def refusal(self, more: int = 0) -> ServiceError:
        wanted = f", {more} more would pass" if more else ""
        return overloaded(f"{self.used} {self.what} are waiting{wanted} and the limit is {self.limit}")


class Admission:
    """The budgets of work in flight: images on every upload endpoint; pixels, which is what decoding costs, by
    kind of image (word images, large word images, photos), so that a flood of one kind does not shut out the
    others; and the text lines of photos, which is what reading them costs."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.images = Budget("images", settings.max_pending)
        self.pixels = Budget("pixels of word images", settings.max_pending_pixels)
        self.large_pixels = Budget("pixels of large word images", settings.max_pending_large_pixels)
        self.photo_pixels = Budget("pixels of photos", settings.max_pending_photo_pixels)
        self.lines = Budget("photo text lines", settings.max_pending_lines)

    @staticmethod
    def door(budgets: Iterable[Budget]) -> Ticket:
        """The check at the door: 503 when one of ``budgets`` is already full. The ticket holds nothing yet."""
        for budget in budgets:
            if budget.full:
                raise budget.refusal()
        return Ticket()


class Ticket:
    """The room one request holds in some ``Budget``s, until ``release``."""

    def __init__(self) -> None:
        self._held: dict[Budget, int] = {}

    def hold(self, costs: Mapping[Budget, int]) -> None:
        """Hold ``costs`` instead of what is held of those budgets; 503, holding nothing more, when one does not fit."""
        for budget, amount in costs.items():
            if budget.used - self._held.get(budget, 0) + amount > budget.limit:
                raise budget.refusal(amount)
        for budget, amount in costs.items():
            budget.used += amount - self._held.get(budget, 0)
            self._held[budget] = amount

    def release(self) -> None:
        for budget, amount in self._held.items():
            budget.used -= amount
        self._held.clear()


class Slots:
    """At most ``limit`` requests of one kind at once; 503 for the next one."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.taken = 0

    @property
    def full(self) -> bool:
        return self.taken >= self.limit

    def refusal(self) -> ServiceError:
        return ServiceError(
            503,
            f"busy: {self.taken} {self.what} requests are running, the limit; retry in {RETRY_AFTER_S} s",
            "busy",
            headers=retry_after(),
        )

    @contextlib.contextmanager
    def take(self) -> Iterator[None]:
        if self.full:
            raise self.refusal()
        self.taken += 1
        try:
            yield
        finally:
            self.taken -= 1
