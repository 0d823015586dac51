import unittest

from paginate import page


ITEMS = list(range(10))


class PageTest(unittest.TestCase):
    def test_first_page(self):
        self.assertEqual(page(ITEMS, 1, 4), [0, 1, 2, 3])

    def test_last_page_is_short(self):
        self.assertEqual(page(ITEMS, 3, 4), [8, 9])

    def test_page_zero_is_an_error(self):
        with self.assertRaises(ValueError):
            page(ITEMS, 0, 4)


if __name__ == "__main__":
    unittest.main()
