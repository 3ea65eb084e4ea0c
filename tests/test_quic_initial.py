"""Tests for auditor.protocols.quic: QUIC Initial decryption and ClientHello reassembly.

Ground truth comes from outside this project: the published test vectors of RFC 9001, RFC 9369
and the IETF drafts, Initial packets made by a real QUIC client (aioquic), and real captures
checked against nDPI's and tshark's results (skipped when ../shared/captures is absent).
"""

from __future__ import annotations

import contextlib
import csv
import random
from pathlib import Path
from typing import Any

import pytest
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.crypto import INITIAL_CIPHER_SUITE, CryptoContext, CryptoPair
from aioquic.tls import cipher_suite_hash, hkdf_expand_label, hkdf_extract

from auditor.protocols.gquic import gquic_chlo_sni
from auditor.protocols.quic import (
    MAX_CRYPTO_BYTES,
    SUPPORTED_VERSIONS,
    VERSION_1,
    VERSION_2,
    ClientHelloAssembler,
    InitialCrypto,
    QuicInitialError,
    client_initial_crypto,
    is_quic_long_header_initial,
)
from auditor.protocols.tls import parse_client_hello

SHARED = Path(__file__).resolve().parents[2] / "shared" / "captures"

# --- Published test vectors ----------------------------------------------------------------
# Client Initial with DCID 8394c8f03e515708. RFC 9001 A.2 (v1) and RFC 9369 A.2 (v2) carry the
# same ClientHello for "example.com"; the drafts' vectors one for "server".
VECTOR_DCID = bytes.fromhex("8394c8f03e515708")

V1_CLIENT_HELLO = bytes.fromhex(
    "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff"
)

RFC9001_CLIENT_INITIAL = bytes.fromhex(
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934"
)

RFC9369_CLIENT_INITIAL = bytes.fromhex(
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc"
)

# draft-ietf-quic-tls-29 Appendix A (version 0xff00001d), as in aioquic's test-suite.
DRAFT29_CLIENT_INITIAL = bytes.fromhex(
    "c5ff00001d088394c8f03e5157080000449e4a95245bfb66bc5f93032b7ddd89"
    "fe0ff15d9c4f7050fccdb71c1cd80512d4431643a53aafa1b0b518b44968b18b"
    "8d3e7a4d04c30b3ed9410325b2abb2dafb1c12f8b70479eb8df98abcaf95dd8f"
    "3d1c78660fbc719f88b23c8aef6771f3d50e10fdfb4c9d92386d44481b6c52d5"
    "9e5538d3d3942de9f13a7f8b702dc31724180da9df22714d01003fc5e3d165c9"
    "50e630b8540fbd81c9df0ee63f94997026c4f2e1887a2def79050ac2d86ba318"
    "e0b3adc4c5aa18bcf63c7cf8e85f569249813a2236a7e72269447cd1c755e451"
    "f5e77470eb3de64c8849d292820698029cfa18e5d66176fe6e5ba4ed18026f90"
    "900a5b4980e2f58e39151d5cd685b10929636d4f02e7fad2a5a458249f5c0298"
    "a6d53acbe41a7fc83fa7cc01973f7a74d1237a51974e097636b6203997f921d0"
    "7bc1940a6f2d0de9f5a11432946159ed6cc21df65c4ddd1115f86427259a196c"
    "7148b25b6478b0dc7766e1c4d1b1f5159f90eabc61636226244642ee148b464c"
    "9e619ee50a5e3ddc836227cad938987c4ea3c1fa7c75bbf88d89e9ada642b2b8"
    "8fe8107b7ea375b1b64889a4e9e5c38a1c896ce275a5658d250e2d76e1ed3a34"
    "ce7e3a3f383d0c996d0bed106c2899ca6fc263ef0455e74bb6ac1640ea7bfedc"
    "59f03fee0e1725ea150ff4d69a7660c5542119c71de270ae7c3ecfd1af2c4ce5"
    "51986949cc34a66b3e216bfe18b347e6c05fd050f85912db303a8f054ec23e38"
    "f44d1c725ab641ae929fecc8e3cefa5619df4231f5b4c009fa0c0bbc60bc75f7"
    "6d06ef154fc8577077d9d6a1d2bd9bf081dc783ece60111bea7da9e5a9748069"
    "d078b2bef48de04cabe3755b197d52b32046949ecaa310274b4aac0d008b1948"
    "c1082cdfe2083e386d4fd84c0ed0666d3ee26c4515c4fee73433ac703b690a9f"
    "7bf278a77486ace44c489a0c7ac8dfe4d1a58fb3a730b993ff0f0d61b4d89557"
    "831eb4c752ffd39c10f6b9f46d8db278da624fd800e4af85548a294c1518893a"
    "8778c4f6d6d73c93df200960104e062b388ea97dcf4016bced7f62b4f062cb6c"
    "04c20693d9a0e3b74ba8fe74cc01237884f40d765ae56a51688d985cf0ceaef4"
    "3045ed8c3f0c33bced08537f6882613acd3b08d665fce9dd8aa73171e2d3771a"
    "61dba2790e491d413d93d987e2745af29418e428be34941485c93447520ffe23"
    "1da2304d6a0fd5d07d0837220236966159bef3cf904d722324dd852513df39ae"
    "030d8173908da6364786d3c1bfcb19ea77a63b25f1e7fc661def480c5d00d444"
    "56269ebd84efd8e3a8b2c257eec76060682848cbf5194bc99e49ee75e4d0d254"
    "bad4bfd74970c30e44b65511d4ad0e6ec7398e08e01307eeeea14e46ccd87cf3"
    "6b285221254d8fc6a6765c524ded0085dca5bd688ddf722e2c0faf9d0fb2ce7a"
    "0c3f2cee19ca0ffba461ca8dc5d2c8178b0762cf67135558494d2a96f1a139f0"
    "edb42d2af89a9c9122b07acbc29e5e722df8615c343702491098478a389c9872"
    "a10b0c9875125e257c7bfdf27eef4060bd3d00f4c14fd3e3496c38d3c5d1a566"
    "8c39350effbc2d16ca17be4ce29f02ed969504dda2a8c6b9ff919e693ee79e09"
    "089316e7d1d89ec099db3b2b268725d888536a4b8bf9aee8fb43e82a4d919d48"
    "43b1ca70a2d8d3f725ead1391377dcc0"
)

# draft-ietf-quic-tls-23 Appendix A (version 0xff000017), as in aioquic's test-suite of 2019.
DRAFT23_CLIENT_INITIAL = bytes.fromhex(
    "c0ff000017088394c8f03e5157080000449e3b343aa8535064a4268a0d9d7b1c"
    "9d250ae355162276e9b1e3011ef6bbc0ab48ad5bcc2681e953857ca62becd752"
    "4daac473e68d7405fbba4e9ee616c87038bdbe908c06d9605d9ac49030359eec"
    "b1d05a14e117db8cede2bb09d0dbbfee271cb374d8f10abec82d0f59a1dee29f"
    "e95638ed8dd41da07487468791b719c55c46968eb3b54680037102a28e53dc1d"
    "12903db0af5821794b41c4a93357fa59ce69cfe7f6bdfa629eef78616447e1d6"
    "11c4baf71bf33febcb03137c2c75d25317d3e13b684370f668411c0f00304b50"
    "1c8fd422bd9b9ad81d643b20da89ca0525d24d2b142041cae0af205092e43008"
    "0cd8559ea4c5c6e4fa3f66082b7d303e52ce0162baa958532b0bbc2bc785681f"
    "cf37485dff6595e01e739c8ac9efba31b985d5f656cc092432d781db95221724"
    "87641c4d3ab8ece01e39bc85b15436614775a98ba8fa12d46f9b35e2a55eb72d"
    "7f85181a366663387ddc20551807e007673bd7e26bf9b29b5ab10a1ca87cbb7a"
    "d97e99eb66959c2a9bc3cbde4707ff7720b110fa95354674e395812e47a0ae53"
    "b464dcb2d1f345df360dc227270c750676f6724eb479f0d2fbb6124429990457"
    "ac6c9167f40aab739998f38b9eccb24fd47c8410131bf65a52af841275d5b3d1"
    "880b197df2b5dea3e6de56ebce3ffb6e9277a82082f8d9677a6767089b671ebd"
    "244c214f0bde95c2beb02cd1172d58bdf39dce56ff68eb35ab39b49b4eac7c81"
    "5ea60451d6e6ab82119118df02a586844a9ffe162ba006d0669ef57668cab38b"
    "62f71a2523a084852cd1d079b3658dc2f3e87949b550bab3e177cfc49ed190df"
    "f0630e43077c30de8f6ae081537f1e83da537da980afa668e7b7fb25301cf741"
    "524be3c49884b42821f17552fbd1931a813017b6b6590a41ea18b6ba49cd48a4"
    "40bd9a3346a7623fb4ba34a3ee571e3c731f35a7a3cf25b551a680fa68763507"
    "b7fde3aaf023c50b9d22da6876ba337eb5e9dd9ec3daf970242b6c5aab3aa4b2"
    "96ad8b9f6832f686ef70fa938b31b4e5ddd7364442d3ea72e73d668fb0937796"
    "f462923a81a47e1cee7426ff6d9221269b5a62ec03d6ec94d12606cb485560ba"
    "b574816009e96504249385bb61a819be04f62c2066214d8360a2022beb316240"
    "b6c7d78bbe56c13082e0ca272661210abf020bf3b5783f1426436cf9ff418405"
    "93a5d0638d32fc51c5c65ff291a3a7a52fd6775e623a4439cc08dd25582febc9"
    "44ef92d8dbd329c91de3e9c9582e41f17f3d186f104ad3f90995116c682a2a14"
    "a3b4b1f547c335f0be710fc9fc03e0e587b8cda31ce65b969878a4ad4283e6d5"
    "b0373f43da86e9e0ffe1ae0fddd3516255bd74566f36a38703d5f34249ded1f6"
    "6b3d9b45b9af2ccfefe984e13376b1b2c6404aa48c8026132343da3f3a33659e"
    "c1b3e95080540b28b7f3fcd35fa5d843b579a84c089121a60d8c1754915c344e"
    "eaf45a9bf27dc0c1e78416169122091313eb0e87555abd706626e557fc36a04f"
    "cd191a58829104d6075c5594f627ca506bf181daec940f4a4f3af0074eee89da"
    "acde6758312622d4fa675b39f728e062d2bee680d8f41a597c262648bb18bcfc"
    "13c8b3d97b1a77b2ac3af745d61a34cc4709865bac824a94bb19058015e4e42d"
    "c9be6c7803567321829dd85853396269"
)

# RFC 9001 A.3: the server's Initial of the same exchange.
RFC9001_SERVER_INITIAL = bytes.fromhex(
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee"
)

VECTORS = {
    "rfc9001-v1": (RFC9001_CLIENT_INITIAL, VERSION_1, "example.com"),
    "rfc9369-v2": (RFC9369_CLIENT_INITIAL, VERSION_2, "example.com"),
    "draft-29": (DRAFT29_CLIENT_INITIAL, 0xFF00001D, "server"),
    "draft-23": (DRAFT23_CLIENT_INITIAL, 0xFF000017, "server"),
}

# Initial salts as published by nDPI / Wireshark (restated to check the module's table).
SALT_T051 = bytes.fromhex("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d")
SALT_DRAFT29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")


# --- Helpers ---------------------------------------------------------------------------------
def sni_of(hello: bytes | None) -> str | None:
    assert hello is not None
    return parse_client_hello(hello).server_name


def decode(datagram: bytes, original_dcid: bytes | None = None) -> InitialCrypto:
    crypto = client_initial_crypto(datagram, original_dcid)
    assert crypto is not None, "not recognised as an Initial"
    return crypto


def aioquic_initials(
    version: int, server_name: str = "meet.google.com", alpn: list[str] | None = None
) -> list[bytes]:
    """The datagrams a real QUIC client (aioquic) sends first."""
    config = QuicConfiguration(
        is_client=True, server_name=server_name, alpn_protocols=alpn or ["h3"]
    )
    config.supported_versions = [version]
    connection = QuicConnection(configuration=config)
    connection.connect(("192.0.2.1", 443), now=0.0)
    return [data for data, _addr in connection.datagrams_to_send(now=0.0)]


def varint(value: int) -> bytes:
    for size, prefix in ((1, 0x00), (2, 0x40), (4, 0x80), (8, 0xC0)):
        if value < 1 << (8 * size - 2):
            return (value | prefix << (8 * size - 8)).to_bytes(size, "big")
    raise ValueError(value)


def crypto_frame(offset: int, data: bytes, frame_type: int = 0x06) -> bytes:
    return bytes([frame_type]) + varint(offset) + varint(len(data)) + data


def protect(
    payload: bytes,
    *,
    version: int = VERSION_1,
    dcid: bytes = VECTOR_DCID,
    key_dcid: bytes | None = None,
    salt: bytes | None = None,
    packet_type: int | None = None,
    packet_number: int = 0,
) -> bytes:
    """Encrypt a client Initial with aioquic's packet protection (its own salt for v1/v2)."""
    context = CryptoContext()
    if salt is None:
        pair = CryptoPair()
        pair.setup_initial(cid=key_dcid or dcid, is_client=True, version=version)
        context = pair.send
    else:
        algorithm = cipher_suite_hash(INITIAL_CIPHER_SUITE)
        initial = hkdf_extract(algorithm, salt, key_dcid or dcid)
        secret = hkdf_expand_label(algorithm, initial, b"client in", b"", 32)
        context.setup(cipher_suite=INITIAL_CIPHER_SUITE, secret=secret, version=version)
    initial_type = 0x10 if version == VERSION_2 else 0x00
    if packet_type is None:
        packet_type = initial_type
    payload = payload.ljust(40, b"\x00")
    header = (
        bytes([0xC0 | packet_type | 0x01])  # 2-byte packet number
        + version.to_bytes(4, "big")
        + bytes([len(dcid)])
        + dcid
        + b"\x04scid"
        + (varint(0) if packet_type == initial_type else b"")  # token: Initial packets only
        + varint(2 + len(payload) + 16)
        + packet_number.to_bytes(2, "big")
    )
    return context.encrypt_packet(header, payload, packet_number)


# --- Published vectors ------------------------------------------------------------------------
@pytest.mark.parametrize("name", VECTORS)
def test_published_vectors(name: str) -> None:
    datagram, version, server_name = VECTORS[name]
    assert is_quic_long_header_initial(datagram)
    crypto = client_initial_crypto(datagram)
    assert crypto is not None
    assert crypto.version == version
    assert crypto.dcid == VECTOR_DCID
    assert [offset for offset, _ in crypto.fragments] == [0]
    assert sni_of(ClientHelloAssembler().add(crypto.fragments)) == server_name


def test_rfc_vector_crypto_data_is_exact() -> None:
    for datagram in (RFC9001_CLIENT_INITIAL, RFC9369_CLIENT_INITIAL):
        crypto = client_initial_crypto(datagram)
        assert crypto == InitialCrypto(
            VERSION_1 if datagram is RFC9001_CLIENT_INITIAL else VERSION_2,
            VECTOR_DCID,
            ((0, V1_CLIENT_HELLO),),
        )
        assert ClientHelloAssembler().add(crypto.fragments) == V1_CLIENT_HELLO


def test_server_initial_does_not_decrypt() -> None:
    assert is_quic_long_header_initial(RFC9001_SERVER_INITIAL)
    with pytest.raises(QuicInitialError):
        client_initial_crypto(RFC9001_SERVER_INITIAL)


def test_packet_type_bits_differ_between_v1_and_v2() -> None:
    v1 = RFC9001_CLIENT_INITIAL
    v2 = RFC9369_CLIENT_INITIAL
    assert is_quic_long_header_initial(v1) and is_quic_long_header_initial(v2)
    # v1's Initial type (0b00) is a Retry in v2; v2's Initial type (0b01) is 0-RTT in v1.
    assert not is_quic_long_header_initial(v2[:1] + v1[1:5] + v2[5:])
    assert not is_quic_long_header_initial(v1[:1] + v2[1:5] + v1[5:])
    assert client_initial_crypto(v2[:1] + v1[1:5] + v2[5:]) is None
    for first in (0x40, 0x80 | 0x00, 0x7F, 0xE0, 0xF0):  # short header, no fixed bit, types
        assert not is_quic_long_header_initial(bytes([first]) + v1[1:])
    assert not is_quic_long_header_initial(v1[:1] + b"\x00\x00\x00\x00" + v1[5:])  # VN
    assert not is_quic_long_header_initial(v1[:1] + b"\x1a\x2a\x3a\x4a" + v1[5:])  # grease
    assert not is_quic_long_header_initial(v1[:6])
    assert not is_quic_long_header_initial(b"")


def test_accepts_bytearray_and_memoryview() -> None:
    expected = client_initial_crypto(RFC9001_CLIENT_INITIAL)
    for datagram in (bytearray(RFC9001_CLIENT_INITIAL), memoryview(RFC9001_CLIENT_INITIAL)):
        assert is_quic_long_header_initial(datagram)
        assert client_initial_crypto(datagram) == expected
        assert gquic_chlo_sni(datagram) is None
    packet = gquic_packet([(b"SNI\x00", b"example.org")])
    assert gquic_chlo_sni(memoryview(packet)) == gquic_chlo_sni(bytearray(packet)) == "example.org"


def test_supported_versions() -> None:
    expected = {VERSION_1, VERSION_2, 0x54303530, 0x54303531, 0xFACEB001, 0xFACEB002}
    expected |= {0xFF000000 | draft for draft in range(22, 35)}
    assert expected <= SUPPORTED_VERSIONS


# --- A real client: aioquic ----------------------------------------------------------------
@pytest.mark.parametrize("version", [VERSION_1, VERSION_2])
def test_aioquic_client_initial(version: int) -> None:
    (datagram,) = aioquic_initials(version)
    assert len(datagram) >= 1200
    assert is_quic_long_header_initial(datagram)
    crypto = client_initial_crypto(datagram)
    assert crypto is not None and crypto.version == version and len(crypto.dcid) == 8
    hello = parse_client_hello(ClientHelloAssembler().add(crypto.fragments) or b"")
    assert hello.server_name == "meet.google.com"
    assert hello.alpn == ("h3",)


@pytest.mark.parametrize("version", [VERSION_1, VERSION_2])
@pytest.mark.parametrize("order", ["in-order", "reversed", "shuffled", "retransmitted"])
def test_aioquic_client_hello_over_several_packets(version: int, order: str) -> None:
    alpn = [f"proto-{i:03d}-" + "x" * 40 for i in range(80)]
    datagrams = aioquic_initials(version, alpn=alpn)
    assert len(datagrams) >= 3
    if order == "reversed":
        datagrams.reverse()
    elif order == "shuffled":
        random.Random(7).shuffle(datagrams)
        datagrams = datagrams[1:] + datagrams[:1]  # make sure the first is not first
    elif order == "retransmitted":
        datagrams = [datagrams[0], datagrams[2], datagrams[0], datagrams[2], *datagrams]
    assembler = ClientHelloAssembler()
    results = []
    dcid = None
    for datagram in datagrams:
        crypto = client_initial_crypto(datagram, dcid)
        assert crypto is not None
        dcid = dcid or crypto.dcid
        results.append(assembler.add(crypto.fragments))
    complete = [r for r in results if r is not None]
    assert len(complete) == 1, "the ClientHello comes out exactly once"
    hello = parse_client_hello(complete[0])
    assert hello.server_name == "meet.google.com"
    assert hello.alpn == tuple(alpn)
    assert assembler.done


# --- Packets built here (aioquic's packet protection) --------------------------------------
def test_crypto_frames_out_of_order_and_overlapping_across_packets() -> None:
    h = V1_CLIENT_HELLO
    ping, ack = b"\x01", b"\x02" + varint(0) + varint(0) + varint(1) + varint(0) + b"\x00\x00"
    packets = [
        protect(ack + crypto_frame(150, h[150:]) + ping + crypto_frame(40, h[40:100])),
        protect(crypto_frame(90, h[90:160]) + crypto_frame(90, h[90:160]), packet_number=1),
        protect(b"\x00" * 30 + crypto_frame(0, h[:50]) + crypto_frame(0, h[:10]), packet_number=2),
    ]
    assembler = ClientHelloAssembler()
    assert assembler.add(decode(packets[0]).fragments) is None
    assert assembler.add(decode(packets[1]).fragments) is None
    assert assembler.add(decode(packets[2]).fragments) == h
    assert assembler.add(decode(packets[2]).fragments) is None  # only once


def test_coalesced_packets_in_one_datagram() -> None:
    h = V1_CLIENT_HELLO
    first = protect(crypto_frame(100, h[100:]))
    second = protect(crypto_frame(0, h[:100]), packet_number=1)
    handshake = protect(b"\x01" * 40, packet_type=0x20, packet_number=2)  # skipped, not Initial
    datagram = first + handshake + second + bytes(200)  # trailing zero padding
    crypto = client_initial_crypto(datagram)
    assert crypto is not None
    assert crypto.fragments == ((100, h[100:]), (0, h[:100]))
    assert ClientHelloAssembler().add(crypto.fragments) == h


def test_later_initials_keyed_by_original_dcid() -> None:
    """After the server answers, client Initials carry its CID but keep the first keys."""
    server_cid = bytes.fromhex("f067a5502a4262b5")
    later = protect(crypto_frame(0, V1_CLIENT_HELLO), dcid=server_cid, key_dcid=VECTOR_DCID)
    with pytest.raises(QuicInitialError):
        client_initial_crypto(later)
    crypto = client_initial_crypto(later, original_dcid=VECTOR_DCID)
    assert crypto is not None and crypto.dcid == server_cid
    assert crypto.fragments == ((0, V1_CLIENT_HELLO),)


def test_google_quic_t051_and_draft_29() -> None:
    t051 = protect(crypto_frame(0, V1_CLIENT_HELLO, 0x08), version=0x54303531, salt=SALT_T051)
    crypto = client_initial_crypto(t051)
    assert crypto is not None and crypto.version == 0x54303531
    assert sni_of(ClientHelloAssembler().add(crypto.fragments)) == "example.com"
    draft = protect(crypto_frame(0, V1_CLIENT_HELLO), version=0xFF000020, salt=SALT_DRAFT29)
    assert decode(draft).fragments == ((0, V1_CLIENT_HELLO),)


def test_unknown_frame_ends_parsing_gracefully() -> None:
    close = b"\x1c" + varint(0x0A) + varint(0) + varint(3) + b"bye"
    datagram = protect(crypto_frame(0, V1_CLIENT_HELLO[:50]) + close + crypto_frame(50, b"x"))
    assert decode(datagram).fragments == ((0, V1_CLIENT_HELLO[:50]),)


def test_crypto_frame_longer_than_packet_raises() -> None:
    with pytest.raises(QuicInitialError):
        client_initial_crypto(protect(b"\x06\x00\x44\x00" + V1_CLIENT_HELLO))


# --- Assembler bounds ---------------------------------------------------------------------
def test_assembler_refuses_data_past_limit() -> None:
    assembler = ClientHelloAssembler()
    with pytest.raises(QuicInitialError):
        assembler.add([(MAX_CRYPTO_BYTES - 10, b"x" * 11)])
    assert assembler.done
    assert assembler.add([(0, V1_CLIENT_HELLO)]) is None


def test_assembler_bounds_out_of_order_data() -> None:
    assembler = ClientHelloAssembler(limit=1000)
    assembler.add([(10, b"a" * 400), (20, b"b" * 400)])
    with pytest.raises(QuicInitialError):
        assembler.add([(30, b"c" * 400)])


def test_assembler_rejects_other_handshake_messages() -> None:
    with pytest.raises(QuicInitialError):
        ClientHelloAssembler().add([(0, b"\x02\x00\x00\x10" + bytes(16))])  # ServerHello
    with pytest.raises(QuicInitialError):
        ClientHelloAssembler().add([(0, b"\x01\xff\xff\xff")])  # 16 MiB ClientHello


def test_assembler_waits_for_declared_length() -> None:
    assembler = ClientHelloAssembler()
    pieces = [(i, V1_CLIENT_HELLO[i : i + 7]) for i in range(0, len(V1_CLIENT_HELLO), 7)]
    results = [assembler.add([piece]) for piece in pieces]
    assert results == [None] * (len(pieces) - 1) + [V1_CLIENT_HELLO]
    assert assembler.done
    # Bytes past the declared length (a later handshake message) are not part of the result.
    assert ClientHelloAssembler().add([(0, V1_CLIENT_HELLO + b"\x01\x00")]) == V1_CLIENT_HELLO


# --- Google QUIC before TLS (clear-text CHLO) ----------------------------------------------
def gquic_packet(tags: list[tuple[bytes, bytes]], version: bytes = b"Q043") -> bytes:
    table, values, end = b"", b"", 0
    for tag, value in tags:
        end += len(value)
        table += tag + end.to_bytes(4, "little")
        values += value
    chlo = b"CHLO" + len(tags).to_bytes(2, "little") + b"\x00\x00" + table + values
    header = b"\x0d" + bytes(range(1, 9)) + version + b"\x01" + bytes(12)  # flags .. hash
    return header + b"\xa0\x01" + len(chlo).to_bytes(2, "big") + chlo


def test_gquic_chlo_sni() -> None:
    packet = gquic_packet(
        [(b"PAD\x00", b"-" * 500), (b"SNI\x00", b"Meet.Google.com"), (b"VER\x00", b"Q043")]
    )
    assert gquic_chlo_sni(packet) == "meet.google.com"
    assert gquic_chlo_sni(gquic_packet([(b"PAD\x00", b"-" * 500)])) is None
    assert gquic_chlo_sni(RFC9001_CLIENT_INITIAL) is None
    assert gquic_chlo_sni(bytes(100)) is None
    for cut in range(len(packet)):
        with contextlib.suppress(QuicInitialError):
            assert gquic_chlo_sni(packet[:cut]) in (None, "meet.google.com")
    for i in range(len(packet)):
        with contextlib.suppress(QuicInitialError):
            gquic_chlo_sni(packet[:i] + bytes([packet[i] ^ 0x41]) + packet[i + 1 :])


# --- Real captures against nDPI and tshark --------------------------------------------------
CAPTURES = [
    "quic.pcap",
    "quic-v2.pcapng",
    "quic_frags_ch_in_multiple_packets.pcapng",
    "google_meet.pcapng",
]


def names_from_capture(path: Path) -> dict[frozenset[tuple[str, int]], dict[str, Any]]:
    """Per UDP flow: the server name and ALPN this module finds in the client's packets."""
    scapy_all = pytest.importorskip("scapy.all")
    flows: dict[frozenset[tuple[str, int]], dict[str, Any]] = {}
    for packet in scapy_all.rdpcap(str(path)):
        if scapy_all.UDP not in packet:
            continue
        ip = packet[scapy_all.IP] if scapy_all.IP in packet else packet[scapy_all.IPv6]
        src, dst = (ip.src, packet.sport), (ip.dst, packet.dport)
        flow = flows.setdefault(
            frozenset((src, dst)),
            {
                "client": src,
                "assembler": ClientHelloAssembler(),
                "dcid": None,
                "name": None,
                "alpn": None,
                "errors": [],
            },
        )
        datagram = bytes(packet[scapy_all.UDP].payload)
        try:
            if src != flow["client"]:  # server side: never decodes, never crashes
                assert client_initial_crypto(datagram) is None
                continue
            flow["name"] = flow["name"] or gquic_chlo_sni(datagram)
            crypto = client_initial_crypto(datagram, flow["dcid"])
            if crypto is None:
                continue
            flow["dcid"] = flow["dcid"] or crypto.dcid
            hello = flow["assembler"].add(crypto.fragments)
            if hello is not None:
                parsed = parse_client_hello(hello)
                flow["name"], flow["alpn"] = parsed.server_name, parsed.alpn
        except QuicInitialError as exc:
            flow["errors"].append((src == flow["client"], str(exc)))
    return flows


def reference(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [row for row in csv.DictReader(f) if row["proto"] == "UDP"]


@pytest.mark.shared
@pytest.mark.parametrize("capture", CAPTURES)
def test_capture_matches_ndpi_and_tshark(capture: str) -> None:
    if not (SHARED / "pcap" / capture).exists():
        pytest.skip(f"shared captures not available at {SHARED}")
    flows = names_from_capture(SHARED / "pcap" / capture)
    ndpi = reference(SHARED / "reference" / "ndpi-flows" / f"{capture}.csv")
    tshark = reference(SHARED / "reference" / "tshark" / f"{capture}.csv")
    for row in ndpi + tshark:
        key = frozenset(((row["src"], int(row["sport"])), (row["dst"], int(row["dport"]))))
        expected = row.get("hostname_sni") or row.get("quic_sni") or row.get("gquic_sni") or None
        if "ndpi_master" in row and row["ndpi_master"] != "QUIC":
            continue
        flow = flows[key]
        assert flow["name"] == expected, (capture, row["src"], row["sport"])
        assert not [e for e in flow["errors"] if e[0]], "client packets decode without error"
        if row.get("alpn") and flow["alpn"] is not None:
            assert ";".join(flow["alpn"]) == row["alpn"]


# --- Garbage in: only None or QuicInitialError out ------------------------------------------
def decode_or_reject(datagram: bytes) -> InitialCrypto | None:
    try:
        return client_initial_crypto(datagram)
    except QuicInitialError:
        return None


def test_random_bytes() -> None:
    rng = random.Random(1)
    versions = [v.to_bytes(4, "big") for v in sorted(SUPPORTED_VERSIONS)]
    for i in range(20000):
        data = rng.randbytes(rng.choice([0, 1, 5, 7, 20, 64, 300, 1200, 1500]))
        if i % 2 and len(data) > 6:  # make it pass the cheap filter to reach the decoder
            version = rng.choice(versions)
            first = 0xC0 | (0x10 if version == VERSION_2.to_bytes(4, "big") else 0) | data[0] & 15
            data = bytes([first]) + version + bytes([rng.choice([0, 8, 20, 21, 255])]) + data[6:]
            assert is_quic_long_header_initial(data)
        decode_or_reject(data)
        with contextlib.suppress(QuicInitialError):
            gquic_chlo_sni(data)


@pytest.mark.parametrize("name", ["rfc9001-v1", "rfc9369-v2", "aioquic-v1", "aioquic-v2"])
def test_truncations_and_bit_flips(name: str) -> None:
    if name.startswith("aioquic"):
        (datagram,) = aioquic_initials(VERSION_2 if name.endswith("v2") else VERSION_1)
    else:
        datagram = VECTORS[name][0]
    good = decode(datagram)
    for cut in range(len(datagram)):
        result = decode_or_reject(datagram[:cut])
        assert result is None or result.fragments in ((), good.fragments)
    for i in range(len(datagram)):
        for bit in range(8) if i < 64 else (i % 8,):
            flipped = datagram[:i] + bytes([datagram[i] ^ (1 << bit)]) + datagram[i + 1 :]
            result = decode_or_reject(flipped)
            assert result is None or result.fragments == good.fragments  # e.g. reserved bits


def test_assembler_with_random_fragments() -> None:
    rng = random.Random(2)
    for _ in range(3000):
        assembler = ClientHelloAssembler(limit=rng.choice([100, 4096, MAX_CRYPTO_BYTES]))
        fragments = [
            (rng.choice([0, 1, 3, 4, 50, 2**20, 2**62 - 1]), rng.randbytes(rng.randrange(0, 80)))
            for _ in range(rng.randrange(1, 6))
        ]
        if rng.random() < 0.5:
            fragments.append((0, b"\x01\x00" + rng.randbytes(2)))
        try:
            result = assembler.add(fragments)
        except QuicInitialError:
            continue
        assert result is None or result[0] == 1
