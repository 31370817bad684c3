"""moto's server (`python3 -m moto.server`) without three emulator costs.

EMULATOR ARTIFACTS, NOT AWS BEHAVIOUR. Measured with py-spy on moto during
SPEC section 8's load run (hundreds of concurrent certflow requests on a
2-core machine, moto and the workflow sharing the CPU):

1. moto's TransactWriteItems deep-copies
every table a transaction touches, once per item of the transaction, so that it
can restore the table when the transaction is cancelled. The cost grows with
the table: at a few hundred concurrent certflow requests (SPEC section 8's load
run) the copies took over 80% of moto's CPU (py-spy), each transaction took
longer than the one before, and moto's memory grew by gigabytes.

   Here a transaction keeps a copy of only the items it names (the only ones a
   transaction can change) and puts exactly those back when it is cancelled. The
   outcome is the same as moto's whole-table copy: the same items are written or
   left alone, the same errors are raised. DynamoDB calls reach moto one at a time
   (the fault proxy's `serialize`), so no other write lands between the copy and
   the restore.
2. moto's RequestCertificate generates a fresh 2048-bit RSA key in Python and
   parses it back (about 125 ms of CPU per certificate, 40% of moto's time at
   250 requests). ACM's own key generation costs the caller nothing, so here the
   ACM certificates share one generated key (each still has its own serial,
   names and ARN; certflow never reads a key), and a PEM key is parsed once.
3. Every request lists moto's module folders on disk to route itself, and is
   logged to stderr (about 18% of moto's time): the folder list is read once,
   and the request log is off (errors are still printed).

Usage: python3 moto-server.py -H 127.0.0.1 -p PORT (the arguments of moto.server).
"""

import copy
import sys
from typing import Any

import logging
import cryptography.hazmat.primitives.asymmetric.rsa as rsa
import moto.backends as moto_backends
import moto.dynamodb.models as dynamodb_models
from moto.acm.models import CertBundle
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.server import main

_real_deepcopy = copy.deepcopy


class _CopyWithoutTables:
    """The `copy` module as moto's DynamoDB backend sees it: a Table "copy" is the table itself."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        # The whole-table backup of transact_write_items is the only Table this module copies;
        # with the table itself as the backup, moto's own restore is a no-op and ours below does the work.
        if isinstance(value, Table):
            return value
        return _real_deepcopy(value, memo)


def _touched_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[Table, Any, Any, Any]]:
    """(table, hash key, range key, copy of the item or None) for every item the transaction names."""
    touched = []
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            hash_key, range_key = backend.get_keys_value(table, key)
            item = table.get_item(hash_key, range_key)
        except Exception:
            # A malformed entry: moto rejects it before writing it, so there is nothing of it to restore.
            continue
        touched.append((table, hash_key, range_key, _real_deepcopy(item)))
    return touched


def _restore(touched: list[tuple[Table, Any, Any, Any]]) -> None:
    # In reverse, so that an item named twice (moto rejects that, after writing the first) ends as it was before.
    for table, hash_key, range_key, item in reversed(touched):
        if item is None:
            table.delete_item(hash_key, range_key)
        elif table.has_range_key:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item


_original_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    touched = _touched_items(self, transact_items)
    try:
        _original_transact_write_items(self, transact_items)
    except Exception:
        # moto cancels the whole transaction on any error it raises: put back what it wrote.
        _restore(touched)
        raise


dynamodb_models.copy = _CopyWithoutTables()  # type: ignore[assignment]
DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]

_real_generate_private_key = rsa.generate_private_key
_generate_cert_code = CertBundle.generate_cert.__func__.__code__  # type: ignore[attr-defined]
_acm_keys: dict[tuple[int, int], Any] = {}


def _generate_private_key(public_exponent: int, key_size: int, backend: Any = None) -> Any:
    # Only ACM's certificate generation shares keys; any other caller gets a fresh one.
    if sys._getframe(1).f_code is not _generate_cert_code:
        return _real_generate_private_key(public_exponent, key_size, backend)
    key = _acm_keys.get((public_exponent, key_size))
    if key is None:
        key = _acm_keys.setdefault((public_exponent, key_size), _real_generate_private_key(public_exponent, key_size, backend))
    return key


rsa.generate_private_key = _generate_private_key  # type: ignore[assignment]

_real_validate_pk = CertBundle.validate_pk
_parsed_keys: dict[bytes, Any] = {}


def _validate_pk(self: CertBundle) -> Any:
    key = _parsed_keys.get(self.key)
    if key is None:
        # An invalid key raises here and is not remembered.
        key = _parsed_keys.setdefault(self.key, _real_validate_pk(self))
    return key


CertBundle.validate_pk = _validate_pk  # type: ignore[method-assign]

_moto_modules = tuple(moto_backends.list_of_moto_modules())
moto_backends.list_of_moto_modules = lambda: _moto_modules  # type: ignore[assignment]

logging.getLogger("werkzeug").setLevel(logging.WARNING)

if __name__ == "__main__":
    main(sys.argv[1:])
