"""Operations are written through the services, so that test data obeys every rule."""

from accounts.tests.factories import AdminUserFactory
from operations.services import Line, order_approve, order_deliver, order_place, report_submit


def lines_of(*pairs) -> list[Line]:
    """lines_of((book, 3), (other_book, 1))"""
    return [Line(book_id=book.pk, copies=copies) for book, copies in pairs]


def place_order(partner, *pairs, note=""):
    return order_place(partner=partner, lines=lines_of(*pairs), by=partner.user, note=note)


def delivered_order(partner, *pairs, admin=None):
    admin = admin or AdminUserFactory()
    order = place_order(partner, *pairs)
    order_approve(order=order, by=admin)
    return order_deliver(order=order, by=admin)


def submit_report(partner, *pairs, note=""):
    return report_submit(partner=partner, lines=lines_of(*pairs), by=partner.user, note=note)


def request_return(partner, *pairs, note=""):
    from operations.returns import return_request

    return return_request(partner=partner, lines=lines_of(*pairs), by=partner.user, note=note)


def recall(partner, *pairs, admin=None, reason="Retired edition"):
    from operations.returns import return_recall

    admin = admin or AdminUserFactory()
    return return_recall(partner=partner, lines=lines_of(*pairs), by=admin, reason=reason)
