from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import User


def active_admins():
    return User.objects.admins().filter(is_active=True)


def session_keys_for_user(*, user: User) -> list[str]:
    """Keys of the live sessions that belong to `user`.

    Django's session table has no user column: each live session is decoded. The table only
    holds unexpired sessions worth checking, and suspension is rare.
    """
    user_pk = str(user.pk)
    keys = []
    sessions = Session.objects.filter(expire_date__gt=timezone.now()).only(
        "session_key", "session_data"
    )
    for session in sessions.iterator(chunk_size=500):
        if str(session.get_decoded().get("_auth_user_id")) == user_pk:
            keys.append(session.session_key)
    return keys
