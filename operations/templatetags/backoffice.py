"""Figures shown on every admin page: the unread count, the order desk and the
receivables."""

from django import template

from operations import analytics
from operations.billing.account import Receivables, receivables
from operations.selectors import unread_notification_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notices(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return 0
    return unread_notification_count(user=user)


@register.simple_tag
def order_desk() -> analytics.OrderDesk:
    return analytics.order_desk()


@register.simple_tag
def receivables_desk() -> Receivables:
    return receivables()
