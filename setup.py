# The metadata lives in setup.cfg; this file exists for pips too old for
# PEP 517 builds (pip 9 on RHEL 8, pip 18 in a Python 3.6 venv) and to make
# the `ssocreds` command.
#
# On POSIX the command is a three-line script that imports nothing but
# ssocreds: pip's console-script wrapper would import re first, which costs
# more than a cache hit itself.  Windows needs pip's .exe launcher, so there
# it is a console_scripts entry point (build on Windows: `pip install .`).
import os

from setuptools import setup

if os.name == "nt":
    setup(entry_points={"console_scripts": ["ssocreds = ssocreds:main"]})
else:
    script = os.path.join("build", "command", "ssocreds")
    if not os.path.isdir(os.path.dirname(script)):
        os.makedirs(os.path.dirname(script))
    with open(script, "w") as f:  # "#!python" becomes the installing python
        f.write("#!python\nimport sys\nfrom ssocreds import main\n"
                "sys.exit(main())\n")
    setup(scripts=[script])
