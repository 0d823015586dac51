import unittest

from report import describe
from users import get_usr


USERS = [{"name": "ada", "role": "admin"}]


class UsersTest(unittest.TestCase):
    def test_lookup(self):
        self.assertEqual(get_usr(USERS, "ada")["role"], "admin")
        self.assertIsNone(get_usr(USERS, "bob"))

    def test_describe(self):
        self.assertEqual(describe(USERS, "ada"), "ada: admin")
        self.assertEqual(describe(USERS, "bob"), "bob: unknown")


if __name__ == "__main__":
    unittest.main()
