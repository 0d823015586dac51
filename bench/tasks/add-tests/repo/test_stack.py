import unittest

from stack import Stack


class StackTest(unittest.TestCase):
    def test_push_then_pop(self):
        stack = Stack()
        stack.push(1)
        self.assertEqual(stack.pop(), 1)


if __name__ == "__main__":
    unittest.main()
