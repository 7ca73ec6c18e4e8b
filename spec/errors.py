"""Rejection reasons, the two exception types, and the registry of rule IDs.

Every validity rule of the spec has a stable **rule ID** (``ENC-003``), a one-line statement, the
:class:`Reason` an implementation must report when the rule is broken, and, where upstream Elastos
has one, the name or message of the upstream check. The guard that enforces a rule is preceded in
the source by a comment carrying its ID::

    # [ENC-003] a VarUint must use its shortest form
    if value < 0xFD:
        raise DecodeError(Reason.NON_CANONICAL_VARUINT, "ENC-003", "...")

A :class:`Reason` is what crosses the adapter boundary: vectors say ``{"reject": "NON_CANONICAL_VARUINT"}``
and every implementation must reject for that reason, not merely reject. Reasons are shared by
several rules where the failure is the same kind (``TRUNCATED`` is reported by every decoder).

Reason codes and rule IDs are append-only: a code is never renamed or reused for another meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique

__all__ = [
    "Reason",
    "Rule",
    "Reject",
    "DecodeError",
    "RULES",
    "register_rule",
    "rule",
]


@unique
class Reason(StrEnum):
    """Stable rejection codes shared by the spec, the vectors and every adapter."""

    # -- generic decoding ---------------------------------------------------------------------
    TRUNCATED = "TRUNCATED"
    """The input ended before a field was complete."""
    TRAILING_BYTES = "TRAILING_BYTES"
    """Bytes remain after a complete top-level object."""
    NON_CANONICAL_VARUINT = "NON_CANONICAL_VARUINT"
    """A VarUint was not written in its shortest form."""
    LENGTH_EXCEEDS_MAX = "LENGTH_EXCEEDS_MAX"
    """A length prefix is larger than the field allows."""
    VALUE_OUT_OF_RANGE = "VALUE_OUT_OF_RANGE"
    """An integer does not fit the type it is to be written as."""
    WRONG_LENGTH = "WRONG_LENGTH"
    """A fixed-size value does not have its size."""
    INVALID_HEX = "INVALID_HEX"
    """A hexadecimal string is not valid hex."""
    FIXED64_SYNTAX = "FIXED64_SYNTAX"
    """A decimal amount string is not of the form ``-?digits(.digits)?``."""
    FIXED64_PRECISION = "FIXED64_PRECISION"
    """A decimal amount has more than 8 fractional digits."""

    # -- base58 and addresses ---------------------------------------------------------------
    INVALID_BASE58_CHARACTER = "INVALID_BASE58_CHARACTER"
    """A character outside the Bitcoin base58 alphabet."""
    BAD_CHECKSUM = "BAD_CHECKSUM"
    """A 4-byte SHA256d checksum does not match."""
    ADDRESS_LENGTH = "ADDRESS_LENGTH"
    """An address is not exactly 34 characters."""
    ADDRESS_NOT_CANONICAL = "ADDRESS_NOT_CANONICAL"
    """An address is not the canonical base58 form of a 25-byte payload."""
    ADDRESS_UNKNOWN_PREFIX = "ADDRESS_UNKNOWN_PREFIX"
    """A program hash or address carries a prefix byte the spec does not define."""

    # -- deterministic CBOR -------------------------------------------------------------------
    CBOR_NON_SHORTEST = "CBOR_NON_SHORTEST"
    """A CBOR integer or length was not written in its shortest form."""
    CBOR_INDEFINITE_LENGTH = "CBOR_INDEFINITE_LENGTH"
    """An indefinite-length CBOR item."""
    CBOR_UNSORTED_MAP = "CBOR_UNSORTED_MAP"
    """CBOR map keys are not in bytewise lexicographic order of their encodings."""
    CBOR_DUPLICATE_KEY = "CBOR_DUPLICATE_KEY"
    """A CBOR map has the same key twice."""
    CBOR_UNSUPPORTED = "CBOR_UNSUPPORTED"
    """A CBOR item outside the profile (tags, floats, undefined, other simple values)."""
    CBOR_INVALID_UTF8 = "CBOR_INVALID_UTF8"
    """A CBOR text string is not valid UTF-8."""
    CBOR_MALFORMED = "CBOR_MALFORMED"
    """A reserved CBOR additional-information value (28, 29 or 30)."""
    CBOR_TOO_DEEP = "CBOR_TOO_DEEP"
    """CBOR arrays and maps nest deeper than the profile allows."""

    # -- keys and signatures ------------------------------------------------------------------
    PUBKEY_ENCODING = "PUBKEY_ENCODING"
    """A P-256 public key is not a 33-byte SEC1 compressed point."""
    PUBKEY_NOT_ON_CURVE = "PUBKEY_NOT_ON_CURVE"
    """A P-256 public key names no point of the curve."""
    PRIVATE_KEY_OUT_OF_RANGE = "PRIVATE_KEY_OUT_OF_RANGE"
    """A private scalar is not in [1, n-1] or not 32 bytes."""
    SIGNATURE_LENGTH = "SIGNATURE_LENGTH"
    """A signature does not have its fixed length."""
    SIGNATURE_OUT_OF_RANGE = "SIGNATURE_OUT_OF_RANGE"
    """An ECDSA r or s is not in [1, n-1]."""
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    """A well-formed signature does not verify."""
    ED25519_KEY_LENGTH = "ED25519_KEY_LENGTH"
    """An Ed25519 or X25519 key is not 32 bytes."""
    ED25519_SMALL_ORDER = "ED25519_SMALL_ORDER"
    """An Ed25519 public key or signature R is a point of small order."""
    X25519_LOW_ORDER = "X25519_LOW_ORDER"
    """An X25519 exchange produced the all-zero shared secret (a low-order peer key)."""

    # -- redeem scripts and programs ------------------------------------------------------------
    MULTISIG_BAD_M_N = "MULTISIG_BAD_M_N"
    """A multisig script needs 1 <= m <= n <= 16."""
    SCRIPT_MALFORMED = "SCRIPT_MALFORMED"
    """A redeem script is neither a standard nor a well-formed multisig script."""
    PARAMETER_LENGTH = "PARAMETER_LENGTH"
    """A program parameter is not a whole number of 65-byte signature pushes."""
    NOT_ENOUGH_SIGNATURES = "NOT_ENOUGH_SIGNATURES"
    """Fewer signatures (or fewer matching keys) than the script's m."""
    TOO_MANY_SIGNATURES = "TOO_MANY_SIGNATURES"
    """More signatures than the script's n."""
    DUPLICATE_SIGNATURE = "DUPLICATE_SIGNATURE"
    """Two signatures of one program match the same key."""

    # -- chain transactions and blocks: codecs --------------------------------------------------
    TX_VERSION_INVALID = "TX_VERSION_INVALID"
    """A transaction version between 1 and 8, which has no wire form."""
    TX_TYPE_UNKNOWN = "TX_TYPE_UNKNOWN"
    """A transaction type code that upstream's table does not define."""
    TX_TYPE_FORBIDDEN = "TX_TYPE_FORBIDDEN"
    """A transaction type that does not exist on the main chain (Deploy, RechargeToSideChain)."""
    TX_TYPE_NOT_IN_PROFILE = "TX_TYPE_NOT_IN_PROFILE"
    """A transaction type of a later profile (DPoS, CR, votes, NFTs)."""
    PAYLOAD_VERSION_UNKNOWN = "PAYLOAD_VERSION_UNKNOWN"
    """A payload version the transaction type does not define."""
    ATTRIBUTE_USAGE_UNKNOWN = "ATTRIBUTE_USAGE_UNKNOWN"
    """An attribute usage code outside the six the main chain accepts."""
    OUTPUT_TYPE_UNKNOWN = "OUTPUT_TYPE_UNKNOWN"
    """An output type code that upstream's table does not define."""
    OUTPUT_TYPE_NOT_IN_PROFILE = "OUTPUT_TYPE_NOT_IN_PROFILE"
    """An output type of a later profile (OTMapping, OTDposV2Vote, OTStake)."""

    # -- chain validation: transactions ----------------------------------------------------------
    TX_SIZE = "TX_SIZE"
    """A transaction is larger than the maximum transaction size."""
    TX_NO_INPUTS = "TX_NO_INPUTS"
    """A non-coinbase transaction has no inputs."""
    TX_INVALID_INPUT = "TX_INVALID_INPUT"
    """A non-coinbase transaction's input references the coinbase outpoint."""
    TX_DUPLICATE_INPUT = "TX_DUPLICATE_INPUT"
    """Two inputs of one transaction reference the same outpoint."""
    COINBASE_BAD_INPUT = "COINBASE_BAD_INPUT"
    """A coinbase does not have exactly the one null input."""
    TX_OUTPUT_COUNT = "TX_OUTPUT_COUNT"
    """A transaction has too few or too many outputs."""
    TX_OUTPUT_ASSET = "TX_OUTPUT_ASSET"
    """An output carries an asset other than ELA."""
    TX_NEGATIVE_OUTPUT = "TX_NEGATIVE_OUTPUT"
    """An output value is negative."""
    TX_OUTPUT_ADDRESS = "TX_OUTPUT_ADDRESS"
    """An output's program hash is not one an address can name."""
    TX_OUTPUT_TYPE_MISMATCH = "TX_OUTPUT_TYPE_MISMATCH"
    """An output type the transaction's type does not allow."""
    TX_OUTPUT_SUM_OVERFLOW = "TX_OUTPUT_SUM_OVERFLOW"
    """A transaction's output values sum past the i64 range."""
    COINBASE_FOUNDATION_SHARE = "COINBASE_FOUNDATION_SHARE"
    """A coinbase pays the foundation less than its 30 % share."""
    TX_NO_PROGRAMS = "TX_NO_PROGRAMS"
    """A non-coinbase transaction has no programs."""
    TX_PROGRAM_CODE = "TX_PROGRAM_CODE"
    """A program's code is shorter than 23 bytes."""
    COINBASE_HAS_PROGRAMS = "COINBASE_HAS_PROGRAMS"
    """A coinbase carries programs."""
    TX_PAYLOAD_INVALID = "TX_PAYLOAD_INVALID"
    """A payload's fields break its type's rules."""
    TX_SIDECHAIN_DUPLICATE = "TX_SIDECHAIN_DUPLICATE"
    """A withdrawal names one sidechain transaction twice."""
    TX_DUPLICATE = "TX_DUPLICATE"
    """A transaction is already in the chain."""
    TX_UNKNOWN_REFERENCE = "TX_UNKNOWN_REFERENCE"
    """An input references an output the chain does not have."""
    TX_DOUBLE_SPEND = "TX_DOUBLE_SPEND"
    """An input spends an output that is already spent."""
    TX_UTXO_LOCKED = "TX_UTXO_LOCKED"
    """An input spends a time-locked output too early or without the unlocking sequence."""
    TX_FEE_TOO_LOW = "TX_FEE_TOO_LOW"
    """A transaction's fee is below the minimum."""
    TX_SPENDS_DESTROY_ADDRESS = "TX_SPENDS_DESTROY_ADDRESS"
    """An input spends an output of the destroy address."""
    TX_DEPOSIT_UTXO = "TX_DEPOSIT_UTXO"
    """An input spends a deposit output."""
    TX_DEPOSIT_OUTPUT = "TX_DEPOSIT_OUTPUT"
    """An output pays a deposit address nobody registered."""
    TX_CROSS_CHAIN_UTXO = "TX_CROSS_CHAIN_UTXO"
    """A transaction other than a withdrawal spends a cross-chain output."""
    TX_PROGRAM_COUNT = "TX_PROGRAM_COUNT"
    """The programs do not correspond one to one to the program hashes that need them."""
    TX_PROGRAM_HASH_MISMATCH = "TX_PROGRAM_HASH_MISMATCH"
    """A program's code does not hash to the program hash it is matched with."""
    TX_SIGNATURE_TYPE = "TX_SIGNATURE_TYPE"
    """A program hash's prefix, or the script shown for it, has no signature check."""
    COINBASE_IMMATURE = "COINBASE_IMMATURE"
    """An input spends a coinbase output before it matures."""
    TX_SPENDS_SIDECHAIN_POW = "TX_SPENDS_SIDECHAIN_POW"
    """An input spends the output of a new-style SideChainPow transaction."""
    TX_HEIGHT_VERSION = "TX_HEIGHT_VERSION"
    """A transaction or payload version that is not the one its height requires."""
    TX_CROSS_CHAIN_PAYLOAD = "TX_CROSS_CHAIN_PAYLOAD"
    """A deposit to a sidechain whose payload or outputs do not describe a well-formed deposit."""
    TX_CROSS_CHAIN_AMOUNT = "TX_CROSS_CHAIN_AMOUNT"
    """A deposit's amount is negative or leaves less than the cross-chain fee in its output."""
    TX_CROSS_CHAIN_FEE = "TX_CROSS_CHAIN_FEE"
    """A deposit's fee is below MinCrossChainTxFee."""
    TX_CROSS_CHAIN_RETIRED_TARGET = "TX_CROSS_CHAIN_RETIRED_TARGET"
    """A deposit to the retired DID sidechain address."""
    TX_SIDECHAIN_POW_SHAPE = "TX_SIDECHAIN_POW_SHAPE"
    """A new-style SideChainPow (no inputs) that is not one zero-value OTNone output without attributes or programs."""
    TX_SIDECHAIN_POW_NOT_IN_PROFILE = "TX_SIDECHAIN_POW_NOT_IN_PROFILE"
    """A SideChainPow, whose signer (the on-duty cross-chain arbiter) this profile does not know."""
    TX_CROSS_CHAIN_ARBITERS = "TX_CROSS_CHAIN_ARBITERS"
    """A cross-chain program is not the network's arbiters' script with the required threshold."""
    TX_VOTE_NOT_IN_PROFILE = "TX_VOTE_NOT_IN_PROFILE"
    """A vote output, which this profile has no candidates for."""

    # -- chain validation: blocks ----------------------------------------------------------------
    BLOCK_TIME_TOO_FAR = "BLOCK_TIME_TOO_FAR"
    """A block's timestamp is too far ahead of the node's adjusted time."""
    BLOCK_NO_TRANSACTIONS = "BLOCK_NO_TRANSACTIONS"
    """A block has no transactions."""
    BLOCK_TOO_MANY_TRANSACTIONS = "BLOCK_TOO_MANY_TRANSACTIONS"
    """A block has more transactions than allowed."""
    BLOCK_HEADER_TOO_LARGE = "BLOCK_HEADER_TOO_LARGE"
    """A serialized header is larger than allowed."""
    BLOCK_TOO_LARGE = "BLOCK_TOO_LARGE"
    """A serialized block is larger than allowed."""
    BLOCK_FIRST_NOT_COINBASE = "BLOCK_FIRST_NOT_COINBASE"
    """A block's first transaction is not a coinbase."""
    BLOCK_SECOND_COINBASE = "BLOCK_SECOND_COINBASE"
    """A block has a coinbase after its first transaction."""
    BLOCK_DUPLICATE_TX = "BLOCK_DUPLICATE_TX"
    """A block holds the same transaction twice."""
    BLOCK_DUPLICATE_INPUT = "BLOCK_DUPLICATE_INPUT"
    """Two transactions of a block spend the same outpoint."""
    BLOCK_DUPLICATE_SIDECHAIN_TX = "BLOCK_DUPLICATE_SIDECHAIN_TX"
    """Two withdrawals of a block name the same sidechain transaction."""
    BLOCK_BAD_MERKLE_ROOT = "BLOCK_BAD_MERKLE_ROOT"
    """A header's merkle root is not the root of the block's txids."""
    BLOCK_BAD_HEIGHT = "BLOCK_BAD_HEIGHT"
    """A block's height is not its parent's plus one."""
    BLOCK_BAD_BITS = "BLOCK_BAD_BITS"
    """A block's bits are not the ones the retarget rule requires."""
    BLOCK_TIME_TOO_OLD = "BLOCK_TIME_TOO_OLD"
    """A block's timestamp is before the median time past."""
    TX_NOT_FINAL = "TX_NOT_FINAL"
    """A block holds a transaction that is not final at its height."""
    COINBASE_BAD_REWARD = "COINBASE_BAD_REWARD"
    """A coinbase pays other than the block reward plus the fees."""
    BLOCK_UNKNOWN_PARENT = "BLOCK_UNKNOWN_PARENT"
    """A block's parent is not known (an orphan)."""

    # -- proof of work and merged mining ---------------------------------------------------------
    MERKLE_EMPTY = "MERKLE_EMPTY"
    """A merkle root was asked of an empty list of hashes."""
    MERKLE_INDEX_OUT_OF_RANGE = "MERKLE_INDEX_OUT_OF_RANGE"
    """A merkle branch was asked for a leaf position the tree does not have."""
    POW_TARGET_NOT_POSITIVE = "POW_TARGET_NOT_POSITIVE"
    """The compact bits denote a target of zero or a negative target."""
    POW_TARGET_ABOVE_LIMIT = "POW_TARGET_ABOVE_LIMIT"
    """The compact bits denote a target above the network's PowLimit."""
    POW_HASH_ABOVE_TARGET = "POW_HASH_ABOVE_TARGET"
    """The parent (Bitcoin) header's hash, read as a little-endian integer, is above the target."""
    RETARGET_ANCESTOR_MISSING = "RETARGET_ANCESTOR_MISSING"
    """A difficulty retarget needs a header (the previous one, or the first of its window) that was not given."""
    AUXPOW_PARENT_MERKLE_MISMATCH = "AUXPOW_PARENT_MERKLE_MISMATCH"
    """The parent coinbase and its branch do not lead to the parent header's merkle root."""
    AUXPOW_NO_COINBASE_INPUT = "AUXPOW_NO_COINBASE_INPUT"
    """The parent coinbase transaction has no input, so it has no script to carry the commitment."""
    AUXPOW_MAGIC_MISSING = "AUXPOW_MAGIC_MISSING"
    """The merged-mining magic ``fabe6d6d`` does not occur in the parent coinbase script."""
    AUXPOW_ROOT_MISSING = "AUXPOW_ROOT_MISSING"
    """The aux merkle root (of the block hash) does not occur in the parent coinbase script."""
    AUXPOW_MAGIC_REPEATED = "AUXPOW_MAGIC_REPEATED"
    """The merged-mining magic occurs more than once in the parent coinbase script."""
    AUXPOW_ROOT_NOT_AFTER_MAGIC = "AUXPOW_ROOT_NOT_AFTER_MAGIC"
    """The first occurrence of the aux merkle root does not immediately follow the magic."""
    AUXPOW_SCRIPT_TOO_SHORT = "AUXPOW_SCRIPT_TOO_SHORT"
    """The parent coinbase script ends before the merkle size or the nonce after the aux root."""
    AUXPOW_MERKLE_SIZE_MISMATCH = "AUXPOW_MERKLE_SIZE_MISMATCH"
    """The merkle size after the aux root is not 2 to the power of the aux branch length."""
    AUXPOW_INDEX_MISMATCH = "AUXPOW_INDEX_MISMATCH"
    """The aux merkle index is not the one the nonce and the chain ID select."""
    AUXPOW_BRANCH_TOO_LONG = "AUXPOW_BRANCH_TOO_LONG"
    """The aux merkle branch has 32 or more hashes, so no index can be selected (upstream divides by zero)."""

    # -- peer-to-peer messages -------------------------------------------------------------------
    COMMAND_FIELD_MALFORMED = "COMMAND_FIELD_MALFORMED"
    """A message header's 12-byte command field has no NUL, or a non-NUL byte after the first NUL."""
    WRONG_NETWORK_MAGIC = "WRONG_NETWORK_MAGIC"
    """A message header's magic is not the network's."""
    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    """A message command the profile does not define."""
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    """A message's payload is longer than its command allows."""
    NODE_VERSION_FIELD = "NODE_VERSION_FIELD"
    """A version message has a node version string without protocol version >= 80000, or lacks one with it."""
    TOO_MANY_ITEMS = "TOO_MANY_ITEMS"
    """A message lists more inventory vectors, addresses or locator hashes than it may."""
    VERSION_NOT_FIRST = "VERSION_NOT_FIRST"
    """A peer's first message is not version."""
    DUPLICATE_VERSION = "DUPLICATE_VERSION"
    """A peer sent a second version message."""
    DUPLICATE_VERACK = "DUPLICATE_VERACK"
    """A peer sent a second verack."""
    SELF_CONNECTION = "SELF_CONNECTION"
    """A peer's version carries a nonce this node sent: the node is connected to itself."""
    PROTOCOL_VERSION_TOO_OLD = "PROTOCOL_VERSION_TOO_OLD"
    """A full-node peer negotiates a protocol version below 20000 (DPOSStartVersion)."""
    EMPTY_ADDR = "EMPTY_ADDR"
    """An addr message lists no address."""
    NOTFOUND_NON_TX = "NOTFOUND_NON_TX"
    """A notfound message lists an inventory vector that is not a transaction."""
    SERVICE_NOT_OFFERED = "SERVICE_NOT_OFFERED"
    """A peer asked for a service this node does not advertise (mempool without SFTxFiltering)."""

    # -- DID syntax and keys ---------------------------------------------------------------------
    DID_EMPTY = "DID_EMPTY"
    """A DID string is empty once the characters at or below U+0020 at both ends are trimmed."""
    DID_INVALID_CHAR = "DID_INVALID_CHAR"
    """A DID has a character that its token rule does not allow at that place."""
    DID_BAD_SCHEMA = "DID_BAD_SCHEMA"
    """A DID does not begin with the scheme ``did``."""
    DID_MISSING_METHOD = "DID_MISSING_METHOD"
    """A DID ends, or has no ``:``, after its scheme."""
    DID_UNKNOWN_METHOD = "DID_UNKNOWN_METHOD"
    """A DID's method is not ``elastos``."""
    DID_MISSING_ID = "DID_MISSING_ID"
    """A DID has no method-specific id after its method."""
    DIDURL_EMPTY = "DIDURL_EMPTY"
    """A DID URL string is empty once trimmed."""
    DIDURL_INVALID_CHAR = "DIDURL_INVALID_CHAR"
    """A DID URL's path, query or fragment has a character its token rule does not allow there."""
    DIDURL_INVALID_HEX = "DIDURL_INVALID_HEX"
    """A ``%`` escape in a DID URL is not followed by two hexadecimal digits."""
    DIDURL_INVALID_DID = "DIDURL_INVALID_DID"
    """The DID part of a DID URL is not a valid DID."""
    DID_CHAIN_ID_CHARSET = "DID_CHAIN_ID_CHARSET"
    """The ID chain takes only letters and digits in a method-specific id."""
    DID_ADDRESS_LENGTH = "DID_ADDRESS_LENGTH"
    """A primitive DID's id does not decode to 25 bytes."""
    DID_ADDRESS_PREFIX = "DID_ADDRESS_PREFIX"
    """A primitive DID's decoded id does not start with the identity prefix 0x67."""
    MNEMONIC_WORD_COUNT = "MNEMONIC_WORD_COUNT"
    """A mnemonic does not have 12, 15, 18, 21 or 24 words."""
    MNEMONIC_UNKNOWN_WORD = "MNEMONIC_UNKNOWN_WORD"
    """A mnemonic word is not in the word list."""
    MNEMONIC_CHECKSUM = "MNEMONIC_CHECKSUM"
    """A mnemonic's checksum bits are not the leading bits of SHA-256 of its entropy."""
    HD_INDEX_OUT_OF_RANGE = "HD_INDEX_OUT_OF_RANGE"
    """An HD derivation index is outside [0, 2^31 - 1]."""
    HD_KEY_INVALID = "HD_KEY_INVALID"
    """A BIP32 step produced a scalar of zero or not below the group order."""
    EXTENDED_KEY_LENGTH = "EXTENDED_KEY_LENGTH"
    """A serialized extended key does not decode to 78 bytes (82 with its checksum)."""
    EXTENDED_KEY_VERSION = "EXTENDED_KEY_VERSION"
    """A serialized extended key carries a version other than xprv or xpub."""

    # -- DID documents ---------------------------------------------------------------------------
    JSON_SYNTAX = "JSON_SYNTAX"
    """A text is not one JSON value (bad syntax, a non-finite number, an unpaired surrogate)."""
    JSON_DUPLICATE_MEMBER = "JSON_DUPLICATE_MEMBER"
    """A JSON object has two members with the same name."""
    JSON_TOO_DEEP = "JSON_TOO_DEEP"
    """JSON arrays and objects are nested deeper than the spec allows."""
    JSON_TOO_LARGE = "JSON_TOO_LARGE"
    """A JSON text is longer than the spec allows."""
    DOC_MALFORMED = "DOC_MALFORMED"
    """A document member is missing, unknown, or of the wrong JSON type."""
    DOC_INVALID_DATE = "DOC_INVALID_DATE"
    """A date is not ``yyyy-MM-ddTHH:mm:ssZ`` (or with ``.SSS`` milliseconds)."""
    DOC_FOREIGN_ID = "DOC_FOREIGN_ID"
    """A key, service or credential id names another DID than the document's subject."""
    DOC_DUPLICATE_ID = "DOC_DUPLICATE_ID"
    """Two keys, services or credentials of a document have the same id."""
    DOC_UNKNOWN_KEY = "DOC_UNKNOWN_KEY"
    """An authentication or authorization reference names no key of the document."""
    DOC_KEY_ENCODING = "DOC_KEY_ENCODING"
    """A ``publicKeyBase58`` is not the Base58 form of a 33-byte compressed P-256 point."""
    DOC_KEY_CONTROLLER = "DOC_KEY_CONTROLLER"
    """A key embedded in authorization has no controller, or is controlled by the subject."""
    DOC_NO_DEFAULT_KEY = "DOC_NO_DEFAULT_KEY"
    """A document with no controller has no default key (key whose address is the DID)."""
    DOC_MULTISIG = "DOC_MULTISIG"
    """``multisig`` is missing, malformed or does not fit the number of controllers."""
    DOC_CONTROLLER = "DOC_CONTROLLER"
    """A controller is the subject itself, or is listed twice."""
    DOC_EMPTY_SERVICE = "DOC_EMPTY_SERVICE"
    """A service has an empty type or endpoint."""
    DOC_PROOF = "DOC_PROOF"
    """A proof has no determinable creator, or two proofs are by the same controller."""

    # -- credentials and presentations -----------------------------------------------------------
    VC_MALFORMED = "VC_MALFORMED"
    """A credential outside a document does not name its subject (``credentialSubject.id``)."""
    VP_MALFORMED = "VP_MALFORMED"
    """A presentation member is missing or of the wrong JSON type (type, proof, realm, nonce, ...)."""
    VP_DUPLICATE_CREDENTIAL = "VP_DUPLICATE_CREDENTIAL"
    """A presentation holds two credentials with the same id."""
    VP_NO_HOLDER = "VP_NO_HOLDER"
    """A presentation without ``holder`` has a relative ``verificationMethod``: its holder is unknown."""

    # -- transfer tickets and ID-chain requests ---------------------------------------------------
    TICKET_MALFORMED = "TICKET_MALFORMED"
    """A transfer ticket member is missing or of the wrong JSON type."""
    TICKET_PROOF = "TICKET_PROOF"
    """A ticket has no proof, a proof without an absolute verification method, or two proofs by one DID."""
    TICKET_MISMATCH = "TICKET_MISMATCH"
    """A transfer's new document does not fit its ticket (other DID, ``to`` not a controller or not a signer)."""
    REQUEST_MALFORMED = "REQUEST_MALFORMED"
    """An ID-chain request member is missing or of the wrong JSON type."""
    REQUEST_SPECIFICATION = "REQUEST_SPECIFICATION"
    """A request's header names an unknown specification."""
    REQUEST_OPERATION = "REQUEST_OPERATION"
    """A request's operation is not an operation of its specification."""
    REQUEST_HEADER = "REQUEST_HEADER"
    """``previousTxid`` or ``ticket`` is missing where the operation needs it, or present where it does not."""
    REQUEST_BASE64 = "REQUEST_BASE64"
    """A payload or ticket is not strict unpadded base64url."""
    REQUEST_PAYLOAD = "REQUEST_PAYLOAD"
    """A decoded payload is not UTF-8 text, or not the DID or credential id the operation carries."""
    REQUEST_UNKNOWN_DID = "REQUEST_UNKNOWN_DID"
    """A document needed to check a request (target, owner, signer, controller) is not known."""
    REQUEST_SIGNER = "REQUEST_SIGNER"
    """The request's verification method is not a key allowed to sign that operation."""
    REQUEST_SIGNATURE = "REQUEST_SIGNATURE"
    """The request's proof type is not ECDSAsecp256r1, or its signature does not verify."""
    REQUEST_NOT_GENUINE = "REQUEST_NOT_GENUINE"
    """The document a request publishes is not genuine."""
    REQUEST_TICKET = "REQUEST_TICKET"
    """A transfer's ticket is not genuine."""

    # -- ID chain ----------------------------------------------------------------------------------
    IDCHAIN_EXPIRES = "IDCHAIN_EXPIRES"
    """A published document expires at or before the block time."""
    IDCHAIN_ALREADY_EXISTS = "IDCHAIN_ALREADY_EXISTS"
    """A create names a DID the chain already knows."""
    IDCHAIN_NOT_FOUND = "IDCHAIN_NOT_FOUND"
    """An update, transfer or deactivate names a DID the chain does not know."""
    IDCHAIN_DEACTIVATED = "IDCHAIN_DEACTIVATED"
    """A request names a deactivated DID."""
    IDCHAIN_PREVIOUS_TXID = "IDCHAIN_PREVIOUS_TXID"
    """An update's previousTxid is not the DID's last transaction id."""
    IDCHAIN_CONTROLLERS_CHANGED = "IDCHAIN_CONTROLLERS_CHANGED"
    """An update changes the DID's controllers."""
    IDCHAIN_TICKET_TXID = "IDCHAIN_TICKET_TXID"
    """A transfer's ticket does not name the DID's last transaction id."""
    IDCHAIN_CREDENTIAL_EXISTS = "IDCHAIN_CREDENTIAL_EXISTS"
    """A credential is declared a second time."""
    IDCHAIN_CREDENTIAL_REVOKED = "IDCHAIN_CREDENTIAL_REVOKED"
    """A revoked credential is declared, or one signer revokes a credential twice."""
    IDCHAIN_REVOKE_SIGNER = "IDCHAIN_REVOKE_SIGNER"
    """A declared credential is revoked by a DID that is not its owner, issuer or their controller."""
    IDCHAIN_HISTORY = "IDCHAIN_HISTORY"
    """A resolved history is not a single chain of verified requests."""

    # -- hive ----------------------------------------------------------------------------------------
    HIVE_JWT_MALFORMED = "HIVE_JWT_MALFORMED"
    """A JWT is not three unpadded base64url parts whose header and claims are JSON objects."""
    HIVE_JWT_ALGORITHM = "HIVE_JWT_ALGORITHM"
    """A JWT's header does not say ``alg: ES256``."""
    HIVE_JWT_SIGNATURE = "HIVE_JWT_SIGNATURE"
    """A JWT's signer key is unknown or not an authentication key, or its signature does not verify."""
    HIVE_TOKEN_SUBJECT = "HIVE_TOKEN_SUBJECT"
    """A JWT's ``sub`` is not the one its step requires (``DIDAuthResponse``, ``AccessToken``, ...)."""
    HIVE_TOKEN_ISSUER = "HIVE_TOKEN_ISSUER"
    """A token was not issued by the vault's own service DID (or a response not by the signed-in DID)."""
    HIVE_TOKEN_AUDIENCE = "HIVE_TOKEN_AUDIENCE"
    """A JWT's ``aud`` is not the party it is meant for."""
    HIVE_TOKEN_EXPIRED = "HIVE_TOKEN_EXPIRED"
    """A JWT is used at or after its ``exp``, or before its ``nbf``."""
    HIVE_TOKEN_CLAIMS = "HIVE_TOKEN_CLAIMS"
    """A required claim is missing or of the wrong JSON type (``exp``, ``props`` with userDid and appDid, ...)."""
    HIVE_SIGNIN_DOCUMENT = "HIVE_SIGNIN_DOCUMENT"
    """The DID document sent to sign in does not parse or is not valid (genuine and unexpired)."""
    HIVE_CHALLENGE_UNKNOWN = "HIVE_CHALLENGE_UNKNOWN"
    """A response answers a nonce the vault did not issue, or one already used."""
    HIVE_CHALLENGE_EXPIRED = "HIVE_CHALLENGE_EXPIRED"
    """A response answers a challenge after its 180 s lifetime."""
    HIVE_PRESENTATION_INVALID = "HIVE_PRESENTATION_INVALID"
    """The response's presentation is missing, does not parse, is not valid, or holds no credential."""
    HIVE_PRESENTATION_REALM = "HIVE_PRESENTATION_REALM"
    """The presentation's realm is not the vault's DID or its nonce is not the challenge's."""
    HIVE_CREDENTIAL_INVALID = "HIVE_CREDENTIAL_INVALID"
    """The presented credential is not valid, or not of the type the step requires."""
    HIVE_CREDENTIAL_SUBJECT = "HIVE_CREDENTIAL_SUBJECT"
    """The presented credential's subject is not the DID that signed in (or lacks ``appDid``)."""
    HIVE_ACCESS_DENIED = "HIVE_ACCESS_DENIED"
    """A call reaches a partition that is not the caller's, or an anonymous caller a script that forbids it."""
    HIVE_SCRIPT_MALFORMED = "HIVE_SCRIPT_MALFORMED"
    """A script, condition or executable is not of the specified shape."""
    HIVE_SCRIPT_NOT_FOUND = "HIVE_SCRIPT_NOT_FOUND"
    """A script call names a script the target partition has not registered."""
    HIVE_SCRIPT_CONDITION = "HIVE_SCRIPT_CONDITION"
    """A script's condition does not hold for the caller."""
    HIVE_SCRIPT_PARAMS = "HIVE_SCRIPT_PARAMS"
    """A script refers to ``$params.<name>`` that the call does not give."""
    HIVE_FILTER_MALFORMED = "HIVE_FILTER_MALFORMED"
    """A query filter, update or find option is outside the specified subset of the filter language."""
    HIVE_COLLECTION_NOT_FOUND = "HIVE_COLLECTION_NOT_FOUND"
    """A database call names a collection that does not exist."""
    HIVE_COLLECTION_EXISTS = "HIVE_COLLECTION_EXISTS"
    """A collection is created a second time."""
    HIVE_PATH_INVALID = "HIVE_PATH_INVALID"
    """A file path is empty, absolute, has an empty, ``.`` or ``..`` segment, a backslash or a control character."""
    HIVE_FILE_NOT_FOUND = "HIVE_FILE_NOT_FOUND"
    """A file call names a file that does not exist."""
    HIVE_FILE_EXISTS = "HIVE_FILE_EXISTS"
    """A copy or move targets an existing path, or a file path collides with a folder."""
    HIVE_QUOTA_EXCEEDED = "HIVE_QUOTA_EXCEEDED"
    """A write would take the partition's storage over its quota (HTTP 507)."""
    HIVE_BACKUP_MALFORMED = "HIVE_BACKUP_MALFORMED"
    """Backup metadata is not of the specified shape, or a restored dump does not match its digest."""
    HIVE_BACKUP_DECRYPT = "HIVE_BACKUP_DECRYPT"
    """An encrypted dump does not open with the metadata's key and nonce."""
    HIVE_BACKUP_STATE = "HIVE_BACKUP_STATE"
    """A backup, restore or promotion is asked in a state that does not allow it."""
    HIVE_SYNC_MALFORMED = "HIVE_SYNC_MALFORMED"
    """A sync manifest entry is not of the specified shape."""
    HIVE_SYNC_STALE = "HIVE_SYNC_STALE"
    """A sync write names a base version that is no longer the path's current version."""
    HIVE_UPLOAD_OFFSET = "HIVE_UPLOAD_OFFSET"
    """A resumable upload chunk does not start where the session stands, or runs past the declared size."""
    HIVE_UPLOAD_DIGEST = "HIVE_UPLOAD_DIGEST"
    """A completed upload's bytes do not have the declared SHA-256 or size."""

    # -- adapter protocol (not spec rules: errors in how a case was asked) ----------------------
    MALFORMED_INPUT = "MALFORMED_INPUT"
    """A handler's input object lacks a field or has one of the wrong JSON type."""
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    """An adapter request line is not a JSON object of the protocol's shape."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One validity rule of the spec."""

    id: str
    """Stable identifier, ``<AREA>-<NNN>``."""
    statement: str
    """One line saying what must hold."""
    reason: Reason
    """The reason reported when the rule is broken."""
    suite: str
    """The vector suite whose cases exercise the rule."""
    upstream: str | None = None
    """The upstream check's name, error message or code, where one exists."""
    note: str | None = None
    """A ``Quirk:`` or ``Deviation:`` remark where the rule differs from the obvious reading."""


RULES: dict[str, Rule] = {}
"""Every registered rule, by ID. Filled as the spec modules are imported (see :mod:`spec.rules`)."""


def register_rule(r: Rule) -> Rule:
    """Add a rule to the registry; an ID may be registered once only."""
    if r.id in RULES and RULES[r.id] != r:
        raise ValueError(f"rule {r.id} registered twice with different contents")
    RULES[r.id] = r
    return r


def rule(
    rule_id: str,
    reason: Reason,
    statement: str,
    *,
    suite: str,
    upstream: str | None = None,
    note: str | None = None,
) -> Rule:
    """Declare a rule next to the code that enforces it."""
    return register_rule(Rule(rule_id, statement, reason, suite, upstream, note))


class Reject(Exception):
    """An input broke a rule of the spec.

    ``reason`` is the stable code; ``rule`` the rule ID that was broken (``None`` only for
    adapter-protocol errors, which are not spec rules); ``detail`` a human-readable explanation
    that is never compared by the conformance runner.
    """

    def __init__(self, reason: Reason, rule: str | None = None, detail: str = "") -> None:
        if rule is not None:
            registered = RULES.get(rule)
            if registered is None:
                raise ValueError(f"unregistered rule {rule!r} raised")
            if registered.reason is not reason:
                raise ValueError(
                    f"rule {rule} is registered with {registered.reason}, raised with {reason}"
                )
        self.reason = reason
        self.rule = rule
        self.detail = detail
        super().__init__(f"{reason.value}" + (f" [{rule}]" if rule else "") + (f": {detail}" if detail else ""))


class DecodeError(Reject):
    """Bytes (or text) that do not decode to a value of the expected type."""
