"""The shape of ssocreds.py: it reads in one direction, bottom-up.

Each ``# -- Section --`` builds only on the sections above it, so a reader
can start at the top and never meet a name that is defined further down.
"""

import ast
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SECTION = re.compile(r"^# -- (.+?) -+$")


MODULE = os.path.join(HERE, "ssocreds.py")


def module_sections(path=MODULE):
    """[(section title, [top-level nodes])] in file order; the imports and
    metadata above the first section form section "header"."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    starts = [(number, SECTION.match(line).group(1))
              for number, line in enumerate(source.splitlines(), 1)
              if SECTION.match(line)]
    sections = [("header", [])] + [(title, []) for _, title in starts]
    for node in ast.parse(source).body:
        index = sum(1 for number, _ in starts if number < node.lineno)
        sections[index][1].append(node)
    return sections


def defined_names(node):
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, (ast.FunctionDef, ast.ClassDef)):
            names.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)) and node is not child:
            if isinstance(node, (ast.If, ast.Try)):
                names.update((a.asname or a.name).split(".")[0] for a in child.names)
    return names


def forward_references(sections):
    home = {}
    for index, (_title, nodes) in enumerate(sections):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Assign,
                                 ast.Import, ast.ImportFrom, ast.Try)) or (
                    isinstance(node, ast.If) and index == 0):
                for name in defined_names(node):
                    home.setdefault(name, index)
            elif isinstance(node, ast.If):
                for name in defined_names(node):
                    home.setdefault(name, index)
    found = []
    for index, (title, nodes) in enumerate(sections):
        for node in nodes:
            for child in ast.walk(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) \
                        and home.get(child.id, -1) > index:
                    found.append("line %d: %s uses %s from the later section %s" % (
                        child.lineno, title, child.id, sections[home[child.id]][0]))
    return found


def test_every_section_builds_only_on_the_sections_above_it():
    sections = module_sections()
    assert len(sections) > 10
    assert forward_references(sections) == []


def test_the_module_docstring_lists_every_section_in_order():
    import ssocreds

    doc = " ".join(ssocreds.__doc__.split())
    position = doc.index("Contents")
    for title, _nodes in module_sections()[1:]:
        found = doc.find(title, position)
        assert found > position, "%s is not in the contents, in order" % title
        position = found


def test_the_layering_check_can_fail(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("# -- One --\ndef a():\n    return b()\n\n"
                    "# -- Two --\ndef b():\n    return 1\n")
    assert forward_references(module_sections(str(path))) == [
        "line 3: One uses b from the later section Two"]
