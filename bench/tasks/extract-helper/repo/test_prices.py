import unittest

from prices import with_discount, with_tax


class PricesTest(unittest.TestCase):
    def test_tax(self):
        self.assertEqual(with_tax(10, 0.2), 12.0)
        self.assertEqual(with_tax(0.99, 0.075), 1.06)

    def test_discount(self):
        self.assertEqual(with_discount(20, 15), 17.0)
        self.assertEqual(with_discount(9.99, 33), 6.69)


if __name__ == "__main__":
    unittest.main()
