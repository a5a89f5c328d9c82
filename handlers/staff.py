"""Who acts as staff, asked by every staff screen and action (issue 12).

- Programme admins: `HAOXIN_ADMIN_IDS`, on an event the platform vouches for
  (`Ctx.is_admin`): every base, every staff screen.
- Training-base staff: made by an admin's one-time invite (`storage.staff`), kept on
  her row (`User.staff_base_id`): her base's courses, lists and numbers only. Revoked,
  she is refused from her next tap (her row is read on every event).

Neither holds for an event the platform cannot vouch for (a WeChat plaintext request).
"""

from __future__ import annotations

from handlers.context import Ctx


def is_staff(ctx: Ctx) -> bool:
    """Whether this person acts as staff now: an admin, or a base's staff."""
    return ctx.is_admin or (ctx.event.verified and ctx.user.staff_base_id is not None)


def staff_base(ctx: Ctx) -> int | None:
    """The base she may see and change: None for an admin (all bases), her base for a
    base's staff. Only meaningful where `is_staff` holds."""
    return None if ctx.is_admin else ctx.user.staff_base_id
