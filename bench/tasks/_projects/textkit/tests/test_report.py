import unittest

from textkit import report


class ReportTest(unittest.TestCase):
    def test_command_line_quotes_what_needs_it(self):
        self.assertEqual(report.command_line(["ls", "-l", "my file"]), "ls -l 'my file'")

    def test_summary_fits_its_width(self):
        line = report.summary("out", "one two three four five six seven eight nine", width=30)
        self.assertEqual(line, "out: one two three four ...")
        self.assertLessEqual(len(line), 30)

    def test_wrapped_indents_every_line(self):
        text = report.wrapped("alpha beta gamma delta epsilon", width=20)
        self.assertEqual(text.splitlines(), ["    alpha beta gamma", "    delta epsilon"])


if __name__ == "__main__":
    unittest.main()
