import os

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run the browser tests last (pytest would otherwise move them first, grouped by their
    session-scoped browser parameter), so that the ORM switch below cannot reach the others."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless.

    Also lets the ORM run beside Playwright: its sync API runs an event loop in the test's
    thread, and the test (and the test database set-up, which comes after the browser's)
    use the ORM. Set here, when the first browser test starts (the browser tests run last),
    and not at import time: set on import it would leak into every test of the run,
    including the one that runs `manage.py check --deploy`, which fails on it.
    """
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before
