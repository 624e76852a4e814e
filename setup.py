from setuptools import find_packages
from setuptools import setup

# What the fast tiers need (make test-min installs only this and the package).
TEST_REQUIRES = ["pytest>=8", "pytest-timeout>=2", "hypothesis>=6.100"]

setup(
    name="flask-mcp",
    version="0.1.0.dev0",
    description="Model Context Protocol servers in Flask, with first-class auth.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["flask_mcp", "flask_mcp.*"]),
    package_data={"flask_mcp": ["py.typed", "templates/flask_mcp/*.html"]},
    python_requires=">=3.10",
    install_requires=[
        "flask>=3.0",
        "flask-caching>=2.3",
        "authlib>=1.6",
        "requests>=2.31",
        "marshmallow>=3.20",
        "apispec>=6.6",
        "jsonschema>=4.20",
        "gunicorn>=22",
    ],
    extras_require={
        "redis": ["redis>=5"],
        "test": TEST_REQUIRES,
        "dev": [
            *TEST_REQUIRES,
            "redis>=5",
            "mcp>=2,<3",
            "playwright>=1.50",
            "ruff>=0.6",
            "mypy>=1.10",
            "import-linter>=2.1",
            "types-jsonschema",
        ],
    },
    entry_points={"flask.commands": ["mcp=flask_mcp.cli:mcp_cli"]},
    classifiers=[
        "Framework :: Flask",
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: BSD License",
    ],
)
