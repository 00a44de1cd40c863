"""Who the visitors are once they leave a name: names, phones, e-mails and products from Faker.

Faker takes tens of microseconds per value, and a large run has tens of thousands of leads, so
Faker fills pools once per run (names, e-mail user names and domains, product codes) and people
are composed from the pools with a seeded ``random.Random``. Identities are made lazily, only for
the people who become leads, and are cached so a returning customer keeps them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

from emulator.sim.calendar import stream_seed

NAME_POOL = 600
USER_POOL = 400
PRODUCT_POOL = 60


@dataclass(frozen=True, slots=True)
class Identity:
    """What a person would type into a form, in canonical form (digits-only phone, lower-case
    e-mail). Faults that garble them are applied by the lead channel, not here."""

    name: str
    phone: str
    email: str


class People:
    def __init__(self, seed: int, locale: str) -> None:
        fake = Faker(locale)
        fake.seed_instance(stream_seed(seed, "faker"))
        self._names = [fake.name() for _ in range(NAME_POOL)]
        self._users = [fake.user_name() for _ in range(USER_POOL)]
        self._domains = sorted({fake.free_email_domain() for _ in range(40)})
        self._products = sorted(
            {
                fake.bothify("??-####", letters="ABCDEFGHJKLMNPRSTUVWXYZ")
                for _ in range(PRODUCT_POOL)
            }
        )
        self._rng = random.Random(stream_seed(seed, "people"))
        self._known: dict[int, Identity] = {}
        self._taken: set[str] = set()

    def identity(self, person: int) -> Identity:
        known = self._known.get(person)
        if known is None:
            known = self._known[person] = self._new()
        return known

    def products(self) -> tuple[str, ...]:
        """A product catalogue for pipelines that do not name their own."""
        return tuple(self._products)

    def _new(self) -> Identity:
        rng = self._rng
        phone = self._unique(lambda: f"79{rng.randrange(10**9):09d}")
        email = self._unique(
            lambda: (
                f"{rng.choice(self._users)}{rng.randrange(100, 10000)}@"
                f"{rng.choice(self._domains)}".lower()
            )
        )
        return Identity(rng.choice(self._names), phone, email)

    def _unique(self, draw: Callable[[], str]) -> str:
        """Phones and e-mails are the CRM's dedup keys: two people must not share one."""
        while True:
            value = draw()
            if value not in self._taken:
                self._taken.add(value)
                return value


def local_phone(phone: str, rng: random.Random) -> str:
    """A canonical ``7XXXXXXXXXX`` written the way people and widgets write it locally."""
    n = phone[1:]
    styles = (
        f"8 ({n[:3]}) {n[3:6]}-{n[6:8]}-{n[8:]}",
        f"8{n}",
        f"+7 {n[:3]} {n[3:6]} {n[6:8]} {n[8:]}",
        f"{n}",
    )
    return rng.choice(styles)
