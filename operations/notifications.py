"""What follows a change: in-app notices and e-mails.

Each function is called by a service inside its transaction, once the change is written.
"""

import logging

from operations.models import Operation

logger = logging.getLogger(__name__)


def order_placed(*, operation: Operation) -> None:
    logger.info("order placed: %s", operation.reference)


def order_approved(*, operation: Operation) -> None:
    logger.info("order approved: %s", operation.reference)


def order_delivered(*, operation: Operation) -> None:
    logger.info("order delivered: %s", operation.reference)


def order_rejected(*, operation: Operation) -> None:
    logger.info("order rejected: %s", operation.reference)
