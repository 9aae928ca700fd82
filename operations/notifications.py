"""What follows a committed change: notices and e-mails. Called by services after commit."""

import logging

logger = logging.getLogger(__name__)


def order_placed(*, operation_id: int) -> None:
    logger.info("order placed: %s", operation_id)


def order_approved(*, operation_id: int) -> None:
    logger.info("order approved: %s", operation_id)


def order_delivered(*, operation_id: int) -> None:
    logger.info("order delivered: %s", operation_id)


def order_rejected(*, operation_id: int) -> None:
    logger.info("order rejected: %s", operation_id)
