import unittest

from textkit import difflib


class UnifiedDiffTest(unittest.TestCase):
    def test_a_changed_line(self):
        diff = list(difflib.unified_diff(["a\n", "b\n"], ["a\n", "c\n"], "x", "y"))
        self.assertEqual(diff[2], "@@ -1,2 +1,2 @@\n")

    def test_insertion_into_an_empty_file(self):
        diff = list(difflib.unified_diff([], ["new\n"], "x", "y"))
        self.assertEqual(diff[2], "@@ -0,0 +1 @@\n")

    def test_deleting_every_line(self):
        diff = list(difflib.unified_diff(["a\n", "b\n"], [], "x", "y"))
        self.assertEqual(diff[2], "@@ -1,2 +0,0 @@\n")


if __name__ == "__main__":
    unittest.main()
