"""moto's server (`python3 -m moto.server`) without five emulator costs.

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
4. A Query on a table's key sorts every item of the table and compares each
   with the partition key (22% of moto's time at 250 requests, growing with
   the table); DynamoDB reads the one partition. Here a key Query reads its
   partition's items only (sorted the same way); index queries are unchanged.
5. ListCertificates renders each certificate in full (extensions parsed,
   validation options built), twice when it filters on key types, so each
   call costs in proportion to the account's certificates (17%). Here a
   certificate's rendering is reused until something it shows changes.

Written against moto 5.2.1's internals; each replacement falls back to moto's
own code for what it does not recognise (an index Query, another caller of RSA
key generation).

Usage: python3 moto-server.py -H 127.0.0.1 -p PORT (the arguments of moto.server).
"""

import copy
import sys
from typing import Any

import inspect
import logging
import threading
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

_query_partition = threading.local()
_real_query = Table.query
_real_all_items = Table.all_items
_query_signature = inspect.signature(_real_query)


def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    bound = _query_signature.bind(self, *args, **kwargs)
    hash_key = bound.arguments.get("hash_key")
    if bound.arguments.get("index_name") is not None or hash_key is None:
        return _real_query(self, *args, **kwargs)
    # moto's key Query reads all_items() and keeps the items of hash_key: hand it that partition only.
    _query_partition.target = (self, hash_key)
    try:
        return _real_query(self, *args, **kwargs)
    finally:
        _query_partition.target = None


def _all_items(self: Table) -> Any:
    target = getattr(_query_partition, "target", None)
    if target is None or target[0] is not self:
        return _real_all_items(self)
    partition = self.items.get(target[1])
    if partition is None:
        return []
    # The same order as moto's all_items(): by hash key, then range key.
    return sorted(partition.values(), key=lambda x: x.range_key) if self.range_key_attr else [partition]


Table.query = _query  # type: ignore[method-assign]
Table.all_items = _all_items  # type: ignore[method-assign]

_real_describe = CertBundle.describe


def _describe(self: CertBundle) -> dict[str, Any]:
    # What the rendering shows that can change after the certificate is made (status, use, options).
    shown = (self.status, tuple(self.in_use_by), repr(self.cert_options), self.cert_authority_arn, self.type)
    cached = getattr(self, "_certflow_described", None)
    if cached is None or cached[0] != shown:
        cached = (shown, _real_describe(self))
        self._certflow_described = cached  # type: ignore[attr-defined]
    # Callers change the top-level fields (ListCertificates pops InUseBy), never the nested ones.
    return {key: dict(value) if isinstance(value, dict) else value for key, value in cached[1].items()}


CertBundle.describe = _describe  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
