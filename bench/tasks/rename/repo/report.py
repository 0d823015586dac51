from users import get_usr


def describe(users, name):
    """One line about a user, for the weekly report."""
    user = get_usr(users, name)
    if user is None:
        return f"{name}: unknown"
    return f"{name}: {user['role']}"
