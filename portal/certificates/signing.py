"""Sign certificates (PAdES, pyHanko), check a signature, and create development keys.

Keys live in one folder (`SIGNING_KEYS_DIR`), laid out the same in development and production:

    ca.cert.pem           the root that signing certificates chain to (trusted when checking)
    ca.key.pem            development only: lets `portal keys init` issue archive certificates
    *.ca.pem              optional further trusted roots
    {code}.key.pem        an archive's private key (mode 0600; may be encrypted with a passphrase)
    {code}.cert.pem       its certificate, optionally followed by intermediate certificates

Keys are RSA 2048 with SHA-256: every PDF reader that checks signatures (Acrobat, Foxit, WPS,
Java and .NET validators) handles it, and a signature costs about 2 ms here; ECDSA would save
that 2 ms and lose some older readers.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers

from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

log = logging.getLogger(__name__)

CA_CERT = "ca.cert.pem"
CA_KEY = "ca.key.pem"
EXTRA_ROOTS = "*.ca.pem"
DEFAULT_REASON = "出具档案证明"
DEFAULT_LOCATION = "中国"
SIGNATURE_FIELD = "ArchiveSeal"
CA_NAME = "档案利用服务平台开发测试根证书"
CA_YEARS = 20
ARCHIVE_CERT_YEARS = 5
# RFC 9336 id-kp-documentSigning: the certificate is for signing documents, not TLS or email.
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class SigningKeyMissing(LookupError):
    """No key or certificate for the archive in the keys folder."""

    def __init__(self, archive_code: str, keys_dir: Path | None = None) -> None:
        self.archive_code = archive_code
        where = f" in {keys_dir}" if keys_dir is not None else ""
        super().__init__(f"档案馆 {archive_code} 没有签章密钥，请运行 `portal keys init` "
                         f"(no signing key for archive {archive_code}{where}: run `portal keys init`)")


@dataclass(frozen=True)
class Signer:
    """One archive's key and certificate, ready to sign. Holds no per-signature state, so one
    instance may sign in several threads at once."""

    archive_code: str
    name: str          # the certificate's CN: the archive's name, shown as the signer
    location: str      # the certificate's locality, or 中国
    certificate: asn1_x509.Certificate
    pyhanko_signer: signers.SimpleSigner


@dataclass(frozen=True)
class SignatureCheck:
    signed: bool               # the file is a PDF with at least one signature
    intact: bool               # the last signature covers the whole file, its digest matches and the signature verifies
    trusted: bool              # intact, and its certificate chains to one of the trust roots
    signer: str | None = None  # the signing certificate's CN


# ---- signing ---------------------------------------------------------------------------------------

_signers: dict[tuple, Signer] = {}
_signers_lock = threading.Lock()


def _check_code(archive_code: str) -> None:
    # The code names files in the keys folder: nothing that could climb out of it.
    if not _CODE.match(archive_code):
        raise ValueError(f"invalid archive code {archive_code!r}")


def load_signer(keys_dir: Path, archive_code: str, passphrase: bytes | None = None) -> Signer:
    """The archive's signer, loaded once per process (and again only when its files change)."""
    _check_code(archive_code)
    keys_dir = Path(keys_dir)
    key_file, cert_file = keys_dir / f"{archive_code}.key.pem", keys_dir / f"{archive_code}.cert.pem"
    try:
        stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in (key_file, cert_file))
    except FileNotFoundError:
        raise SigningKeyMissing(archive_code, keys_dir) from None
    cache_key = (str(keys_dir.resolve()), archive_code, passphrase, stamp)
    with _signers_lock:
        signer = _signers.get(cache_key)
        if signer is None:
            signer = _load(keys_dir, archive_code, key_file, cert_file, passphrase)
            for old in [k for k in _signers if k[:3] == cache_key[:3]]:
                del _signers[old]
            _signers[cache_key] = signer
        return signer


def _load(keys_dir: Path, archive_code: str, key_file: Path, cert_file: Path, passphrase: bytes | None) -> Signer:
    try:
        key = load_private_key_from_pemder_data(key_file.read_bytes(), passphrase=passphrase)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key_file}: cannot read the private key (wrong or missing passphrase?): {exc}") from exc
    # The archive's certificate first, then any intermediates after it in the same file.
    chain = list(load_certs_from_pemder_data(cert_file.read_bytes()))
    if not chain:
        raise ValueError(f"{cert_file}: no certificate in the file")
    certificate, others = chain[0], chain[1:]
    registry = SimpleCertificateStore()
    registry.register_multiple(others + trust_roots(keys_dir))
    # Root certificates travel inside the signature too: a reader given only the file can show the chain.
    pyhanko_signer = _LoadedKeySigner(signing_cert=certificate, signing_key=key, cert_registry=registry)
    subject = certificate.subject.native
    return Signer(archive_code=archive_code, name=subject.get("common_name") or archive_code,
                  location=subject.get("locality_name") or DEFAULT_LOCATION, certificate=certificate,
                  pyhanko_signer=pyhanko_signer)


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses the private key again for every raw signature, twice per PDF
    (a dry run sizes the signature first), and parsing an RSA key checks it: 30 ms each time.
    This one parses it once."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._private_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        # Hex digits to reserve for the signature container: the certificates it embeds plus 4 KB
        # for the signature and its attributes, written out as hex (two digits a byte).
        self.bytes_reserved = 2 * (4096 + sum(len(c.dump()) for c in (self.signing_cert, *self.cert_registry)))

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism.signature_algo == "rsassa_pkcs1v15" and isinstance(self._private_key, rsa.RSAPrivateKey):
            return self._private_key.sign(data, PKCS1v15(), hash_algo)
        if mechanism.signature_algo == "ecdsa" and isinstance(self._private_key, ec.EllipticCurvePrivateKey):
            return self._private_key.sign(data, ec.ECDSA(hash_algo))
        return super().sign_raw(data, digest_algorithm)  # other mechanisms: pyHanko's own way


def sign(pdf: bytes, signer: Signer, *, reason: str = DEFAULT_REASON) -> bytes:
    """A PAdES baseline (B-B) signature over the whole file, added as an incremental update.

    Invisible: the certificate already shows the seal image and the QR code on paper; the
    signature is what a PDF reader's signature panel shows. It certifies the document (DocMDP,
    no changes allowed), so a reader flags anything added afterwards."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD, reason=reason, location=signer.location, name=signer.name,
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    # Space for the signature reserved up front (the certificates plus room for the signature
    # itself) spares pyHanko a dry run to measure it.
    return signers.sign_pdf(writer, meta, signer=signer.pyhanko_signer,
                            bytes_reserved=signer.pyhanko_signer.bytes_reserved).getvalue()


# ---- checking --------------------------------------------------------------------------------------

def check(pdf: bytes, trust_roots: Iterable | Path | str) -> SignatureCheck:
    """What the file's (last) signature proves. Never raises: anything unreadable is unsigned.

    `trust_roots`: certificates (asn1crypto or cryptography objects), a keys folder (its
    ca.cert.pem and *.ca.pem), or a PEM file of one or more certificates."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # noqa: BLE001 - garbage in, "not signed" out
        return SignatureCheck(signed=False, intact=False, trusted=False)
    if not signatures:
        return SignatureCheck(signed=False, intact=False, trusted=False)
    if not all(_plain_byte_range(sig.byte_range, len(pdf)) for sig in signatures):
        # Checked before anything is hashed: a /ByteRange of thousands of [0 99999999] pairs made
        # one upload cost seconds of CPU (issue 11, section 7). Ours are always four numbers.
        return SignatureCheck(signed=True, intact=False, trusted=False)
    signature = signatures[-1]
    try:
        context = ValidationContext(trust_roots=_roots(trust_roots), allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    except Exception as exc:  # noqa: BLE001 - a mangled signature dictionary or CMS blob
        log.info("signature check failed: %s", exc)
        return SignatureCheck(signed=True, intact=False, trusted=False)
    intact = bool(status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE)
    trusted = intact and bool(status.trusted)
    # A name is shown only from a certificate our own CA issued: an untrusted one says what its
    # maker typed, and /verify must not repeat it.
    signer = status.signing_cert.subject.native.get("common_name") if trusted and status.signing_cert else None
    return SignatureCheck(signed=True, intact=intact, trusted=trusted, signer=signer)


def _plain_byte_range(byte_range, size: int) -> bool:
    """Exactly [0 a b c] with the gap (the signature) inside the file and c reaching its end."""
    try:
        values = [int(v) for v in byte_range]
    except (TypeError, ValueError):
        return False
    if len(values) != 4:
        return False
    start, first, gap_end, last = values
    return start == 0 and 0 < first <= gap_end and last >= 0 and gap_end + last == size


def _roots(given: Iterable | Path | str) -> list[asn1_x509.Certificate]:
    if isinstance(given, (str, Path)):
        path = Path(given)
        return trust_roots(path) if path.is_dir() else list(load_certs_from_pemder_data(path.read_bytes()))
    roots = []
    for cert in given:
        if isinstance(cert, x509.Certificate):
            cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        roots.append(cert)
    return roots


def trust_roots(keys_dir: Path) -> list[asn1_x509.Certificate]:
    """The roots a signature must chain to: ca.cert.pem and any *.ca.pem in the keys folder
    (asn1crypto certificates, as pyHanko takes them). Empty when the folder has none."""
    keys_dir = Path(keys_dir)
    files = [keys_dir / CA_CERT] + sorted(keys_dir.glob(EXTRA_ROOTS))
    roots = []
    for file in files:
        if file.is_file():
            roots.extend(load_certs_from_pemder_data(file.read_bytes()))
    return roots


# ---- development keys ------------------------------------------------------------------------------

def init_keys(keys_dir: Path, archives: list[tuple[str, str]], *, force: bool = False,
              passphrase: bytes | None = None) -> list[Path]:
    """Create a development CA if there is none and a key and certificate for each archive
    (code, name) that has none; with `force`, replace the archives' keys (never the CA: that
    would make every certificate signed so far untrusted). Returns the files written.

    `passphrase` encrypts the private keys written (and opens an encrypted ca.key.pem)."""
    keys_dir = Path(keys_dir)
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for code, _name in archives:
        _check_code(code)
    written: list[Path] = []
    todo = [(code, name) for code, name in archives
            if force or not ((keys_dir / f"{code}.key.pem").exists() and (keys_dir / f"{code}.cert.pem").exists())]
    if not todo:
        return written
    ca_cert_file, ca_key_file = keys_dir / CA_CERT, keys_dir / CA_KEY
    if not ca_cert_file.exists():
        if ca_key_file.exists():
            raise RuntimeError(f"{ca_key_file} exists without {ca_cert_file}: restore the certificate or remove both")
        ca_key, ca_cert = _make_ca()
        written.append(_write_private(ca_key_file, ca_key, passphrase))
        written.append(_write_public(ca_cert_file, ca_cert))
    elif not ca_key_file.exists():
        raise RuntimeError(f"{ca_key_file} is missing, so no archive certificate can be issued here; "
                           f"in production put each archive's {{code}}.key.pem and {{code}}.cert.pem in {keys_dir}")
    else:
        ca_cert = x509.load_pem_x509_certificate(ca_cert_file.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=passphrase)
    for code, name in todo:
        key, cert = _make_archive_cert(name, ca_key, ca_cert)
        # The key first: a certificate without its key would look like a complete pair.
        written.append(_write_private(keys_dir / f"{code}.key.pem", key, passphrase))
        written.append(_write_public(keys_dir / f"{code}.cert.pem", cert))
    return written


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _now() -> dt.datetime:
    # Back-dated an hour, so a machine whose clock is a little behind still accepts the certificate.
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=1)


def _make_ca() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = _name(CA_NAME, "档案利用服务平台（开发测试）")
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_archive_cert(archive_name: str, ca_key, ca_cert: x509.Certificate) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = _now()
    not_after = min(now + dt.timedelta(days=365 * ARCHIVE_CERT_YEARS), ca_cert.not_valid_after_utc)
    cert = (x509.CertificateBuilder().subject_name(_name(archive_name, archive_name))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _write_private(path: Path, key, passphrase: bytes | None) -> Path:
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return _write(path, data, 0o600)


def _write_public(path: Path, cert: x509.Certificate) -> Path:
    return _write(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write(path: Path, data: bytes, mode: int) -> Path:
    """Write through a temporary file created with `mode` (a key is never readable by others, not
    even for a moment) and rename it into place (a reader sees the old file or the new one)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
