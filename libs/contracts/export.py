"""``python -m libs.contracts.export``: write the JSON Schemas of all contracts into libs/contracts/schemas/."""

from libs.contracts.registry import export_schemas

if __name__ == "__main__":
    for path in export_schemas():
        print(path)
