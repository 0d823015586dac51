def get_usr(users, name):
    """The user record called `name`, or None."""
    for user in users:
        if user["name"] == name:
            return user
    return None
