"""The query strings of the stock and sales analytics pages: the filters on screen, with a
parameter set or left out."""


def _query_with(query, **params) -> str:
    query = query.copy()
    for key, value in params.items():
        query[key] = value
    return query.urlencode()


def _query_without(query, *keys) -> str:
    query = query.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()
