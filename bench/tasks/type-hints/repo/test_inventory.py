import unittest

from inventory import add_item, total_items


class InventoryTest(unittest.TestCase):
    def test_add_and_total(self):
        inventory = {}
        self.assertEqual(add_item(inventory, "bolt", 3), 3)
        self.assertEqual(add_item(inventory, "bolt"), 4)
        add_item(inventory, "nut", 2)
        self.assertEqual(total_items(inventory), 6)


if __name__ == "__main__":
    unittest.main()
