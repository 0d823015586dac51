import math


def rect_area(width, height):
    return width * height


def rect_perimeter(width, height):
    return 2 * (width + height)


def circle_area(radius):
    return math.pi * radius**2
