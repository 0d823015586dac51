import unittest

from geometry import circle_area, rect_area, rect_perimeter


class GeometryTest(unittest.TestCase):
    def test_rectangle(self):
        self.assertEqual(rect_area(2, 3), 6)
        self.assertEqual(rect_perimeter(2, 3), 10)

    def test_circle(self):
        self.assertAlmostEqual(circle_area(1), 3.14159, places=5)


if __name__ == "__main__":
    unittest.main()
