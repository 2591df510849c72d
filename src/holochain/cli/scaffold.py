"""Files ``hc init`` and ``hc generate`` write."""

from __future__ import annotations

import json

__all__ = ["app_json", "GITIGNORE", "HCIGNORE", "zome_json", "zome_code", "project_readme"]

GITIGNORE = "dist/\nnode_modules/\ntarget/\n.hc\n"
HCIGNORE = "dist\ntest\nREADME.md"


def app_json(name: str) -> str:
    return (
        json.dumps(
            {
                "name": name,
                "description": "A Holochain app",
                "authors": [{"identifier": "Author Name <author@name.com>", "public_key_source": "", "signature": ""}],
                "version": "0.1.0",
                "dht": {},
                "properties": None,
            },
            indent=2,
        )
        + "\n"
    )


def project_readme(name: str) -> str:
    return f"""# {name}

A Holochain DNA written in Python.

    hc generate zomes/my_zome   # add a zome
    hc package                  # build dist/{name}.dna.json
    hc run                      # serve it on ws://localhost:8888
"""


def zome_json(name: str) -> str:
    return json.dumps({"description": f"The {name} zome"}, indent=2) + "\n"


def zome_code(name: str) -> str:
    """A zome that runs as generated: one entry type, create and get."""
    return f'''"""The {name} zome."""

from dataclasses import dataclass

from holochain import hdk

zome = hdk.Zome(description="The {name} zome")


@zome.entry_type("my_entry", description="an example entry", sharing="public")
@dataclass
class MyEntry:
    content: str


@zome.validate("my_entry")
def validate_my_entry(validation: hdk.EntryValidation) -> None:
    if not validation.entry.content:
        raise hdk.ValidationError("content must not be empty")


@zome.function(public=True)
def create_my_entry(entry: MyEntry) -> str:
    """Commit an entry; answers its address."""
    return hdk.commit_entry(entry)


@zome.function(public=True)
def get_my_entry(address: str) -> hdk.Entry | None:
    """The entry at ``address``, or null."""
    return hdk.get_entry(address)
'''
