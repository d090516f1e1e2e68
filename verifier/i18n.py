"""Report texts in English and Thai (``--lang en|th``).

Every finding has a message code; ``MESSAGES[code] = (English, Thai)`` with ``str.format``
fields.  Technical details inside ``{error}`` / ``{reason}`` stay in English (they quote the
spec's field names and equations).
"""
from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "th")

CHECK_TITLES: dict[str, tuple[str, str]] = {
    "record.format": ("FORMAT.json, every expected file present, version supported",
                      "FORMAT.json ครบทุกไฟล์ที่ต้องมี และรองรับเวอร์ชันนี้"),
    "record.hashes": ("every file's SHA-256 equals HASHES.json, no unlisted file, record_hash",
                      "SHA-256 ของทุกไฟล์ตรงกับ HASHES.json ไม่มีไฟล์นอกรายการ และ record_hash ถูกต้อง"),
    "manifest.election_id": ("SHA-256 of manifest.json = the election id used throughout",
                             "SHA-256 ของ manifest.json ตรงกับรหัสการเลือกตั้งที่ใช้ทุกแห่ง"),
    "key.public": ("n odd, large enough, not prime, not a perfect power, no prime factor "
                   "below 2^16, Pollard p − 1 (bound 2^20) finds no factor",
                   "n เป็นเลขคี่ ขนาดเพียงพอ ไม่เป็นจำนวนเฉพาะ ไม่เป็นกำลังสมบูรณ์ "
                   "ไม่มีตัวประกอบเฉพาะที่น้อยกว่า 2^16 และวิธี p − 1 ของ Pollard "
                   "(ขอบเขต 2^20) หาตัวประกอบไม่ได้"),
    "key.verification": ("election key version 2; trustee indexes 1..ℓ, 1 ≤ t ≤ ℓ, names and "
                         "signing keys distinct, verification keys and base units mod n²",
                         "กุญแจการเลือกตั้งเวอร์ชัน 2 ลำดับผู้ถือกุญแจ 1..ℓ, 1 ≤ t ≤ ℓ "
                         "ชื่อและกุญแจลงนามไม่ซ้ำกัน และกุญแจตรวจสอบกับฐานเป็นหน่วยใน Z*ₙ²"),
    "board.chain": ("seq 1..N without gap, prev_hash links, entry hashes, one election id, "
                    "exactly the keys of each entry's kind (ballot or audit)",
                    "ลำดับ 1..N ไม่ขาดตอน prev_hash เชื่อมกัน แฮชของรายการถูกต้อง "
                    "รหัสการเลือกตั้งเดียว และรายการแต่ละชนิด (บัตรหรือบัตรตรวจสอบ) มีคีย์ครบถ้วนพอดี"),
    "board.ballots": ("every ballot listed once, hash = the entry's ballot_hash, context matches",
                      "บัตรแต่ละใบปรากฏครั้งเดียว แฮชตรงกับ ballot_hash และผู้ลงคะแนน/การเลือกตรงกัน"),
    "board.checkpoints": ("signatures valid with the pinned board key, each (seq, head) on the "
                          "chain, opening hash, last one final at N",
                          "ลายเซ็นถูกต้องตามกุญแจของกระดานที่ตรึงไว้ (seq, head) อยู่บนสายโซ่ "
                          "แฮชของวัตถุเปิดหีบถูกต้อง และจุดตรวจสุดท้ายเป็นจุดปิดที่ N"),
    "ballots.proofs": ("every ballot's 0/1 proofs and 0..k proof, bound to election, contest, "
                       "pseudonym and credential",
                       "หลักฐาน 0/1 และหลักฐาน 0..k ของบัตรทุกใบ ผูกกับการเลือกตั้ง การเลือก "
                       "นามแฝง และข้อมูลประจำตัวผู้ลงคะแนน"),
    "overrides.signature": ("paper-override list well formed, sorted, unique, same election",
                            "รายชื่อผู้ลงคะแนนด้วยบัตรกระดาษมีรูปแบบถูกต้อง เรียงลำดับ ไม่ซ้ำ และเป็นการเลือกตั้งเดียวกัน"),
    "tally.counted_set": ("counted = last cast ballot per credential − revoked − overrides − "
                          "invalid; audits never counted; reasons right",
                          "บัตรที่นับ = บัตรใบสุดท้ายที่ลงคะแนนของแต่ละข้อมูลประจำตัว − ที่ถูกเพิกถอน − "
                          "ผู้ใช้บัตรกระดาษ − บัตรเสีย บัตรตรวจสอบไม่ถูกนับ และเหตุผลถูกต้อง"),
    "tally.aggregate": ("encrypted tally = product of the counted ciphertexts",
                        "ผลรวมเข้ารหัส = ผลคูณของข้อความเข้ารหัสของบัตรที่นับ"),
    "tally.decryption_shares": ("every share's proof valid against the trustee's verification key",
                                "หลักฐานของส่วนถอดรหัสทุกส่วนถูกต้องตามกุญแจตรวจสอบของผู้ถือกุญแจ"),
    "results.combination": ("each count = the combination of the trustees_used shares",
                            "คะแนนแต่ละรายการ = ผลรวมส่วนถอดรหัสของ trustees_used"),
    "results.elected": ("elected = top seats with the tie rule",
                        "ผู้ได้รับเลือก = ผู้ได้คะแนนสูงสุดตามจำนวนที่นั่ง (seats) ตามกฎตัดสินคะแนนเท่ากัน"),
    "results.plausible": ("each count ≤ counted ballots; sum ≤ k × counted ballots",
                          "คะแนนแต่ละคน ≤ จำนวนบัตรที่นับ และผลรวม ≤ k × จำนวนบัตรที่นับ"),
    "pins.opening": ("opening signed by the CA key given with --ca-key; its pins equal the "
                     "record's keys and files; its hash in every checkpoint and the paper list",
                     "วัตถุเปิดหีบลงนามด้วยกุญแจของผู้ออกข้อมูลประจำตัวที่ให้ด้วย --ca-key "
                     "ค่าที่ตรึงไว้ตรงกับกุญแจและไฟล์ของบันทึก และแฮชปรากฏในทุกจุดตรวจและรายชื่อบัตรกระดาษ"),
    "credentials.list": ("credential list and revocations signed by the pinned CA key, same "
                         "election, sorted, unique, one contest each; revocations valid",
                         "รายการข้อมูลประจำตัวและการเพิกถอนลงนามด้วยกุญแจผู้ออกข้อมูลประจำตัวที่ตรึงไว้ "
                         "เป็นการเลือกตั้งเดียวกัน เรียงลำดับ ไม่ซ้ำ อยู่ในการเลือกเดียว "
                         "และการเพิกถอนถูกต้อง"),
    "board.signatures": ("every ballot signed by a credential of its own contest; one pseudonym "
                         "per credential, one live credential per pseudonym; chained per "
                         "credential through previous",
                         "บัตรทุกใบลงนามด้วยข้อมูลประจำตัวของการเลือกของบัตรนั้น "
                         "ข้อมูลประจำตัวหนึ่งต่อนามแฝงหนึ่ง นามแฝงหนึ่งมีข้อมูลประจำตัวที่ใช้ได้หนึ่ง "
                         "และบัตรของแต่ละข้อมูลประจำตัวเชื่อมกันผ่าน previous"),
    "board.unique": ("no ballot_hash occurs twice on the board",
                     "ไม่มี ballot_hash ซ้ำบนกระดาน"),
    "board.times": ("cast_at non-decreasing and inside the poll window",
                    "เวลาลงคะแนนไม่ย้อนกลับและอยู่ในช่วงเปิดหีบ"),
    "overrides.officials": ("paper list signed by two distinct officials pinned in the opening",
                            "รายชื่อบัตรกระดาษลงนามโดยเจ้าหน้าที่สองคนที่ต่างกันซึ่งตรึงไว้ในวัตถุเปิดหีบ"),
    "tally.turnout": ("counted ballots ≤ the number of credentials of the contest",
                      "จำนวนบัตรที่นับ ≤ จำนวนข้อมูลประจำตัวของการเลือก"),
    "key.modulus_proof": ("the dealer's modulus proof verifies: n = pq, distinct primes "
                          "p ≡ q ≡ 3 (mod 4), gcd(n, φ(n)) = 1",
                          "หลักฐานมอดุลัสของผู้สร้างกุญแจถูกต้อง: n = pq โดย p, q "
                          "เป็นจำนวนเฉพาะต่างกัน p ≡ q ≡ 3 (mod 4) และ gcd(n, φ(n)) = 1"),
    "key.factor_proof": ("the dealer's no-small-factor proof verifies against RSA-2048: both "
                         "factors of n are large",
                         "หลักฐานว่าไม่มีตัวประกอบเล็กของผู้สร้างกุญแจถูกต้องเทียบกับ RSA-2048: "
                         "ตัวประกอบทั้งสองของ n มีขนาดใหญ่"),
    "key.verification_base": ("the verification base is derived from the key id by a hash "
                              "(nobody chose it); no verification key of order below 2^16",
                              "ฐานตรวจสอบได้จากแฮชของรหัสกุญแจ (ไม่มีใครเลือกเองได้) "
                              "และไม่มีกุญแจตรวจสอบที่มีอันดับต่ำกว่า 2^16"),
    "key.shared_secret": ("the trustees' verification keys share the decryption key d on one "
                          "polynomial (consistency and secret equations)",
                          "กุญแจตรวจสอบของผู้ถือกุญแจแบ่งกุญแจถอดรหัส d "
                          "บนพหุนามเดียวกัน (สมการความสอดคล้องและสมการความลับ)"),
    "key.short_base": ("the ballots' short base h_s derived from n is usable: a unit of order "
                       "2^16 or more (docs/protocol.md §5.0)",
                       "ฐานสั้น h_s ของบัตรเลือกตั้งที่ได้จาก n ใช้ได้: เป็นหน่วยที่มีอันดับไม่ต่ำกว่า 2^16 "
                       "(docs/protocol.md §5.0)"),
    "tally.share_signatures": ("every decryption share file is signed by the trustee it names, "
                               "for this election and this encrypted tally",
                               "ไฟล์ส่วนถอดรหัสทุกไฟล์ลงนามโดยผู้ถือกุญแจที่ระบุ "
                               "สำหรับการเลือกตั้งนี้และผลรวมเข้ารหัสนี้"),
    "audits.open": ("every audited ballot opens with its published seed to choices 0/1, at "
                    "most k of them 1, and its audit statement is signed by its credential",
                    "บัตรตรวจสอบทุกใบเปิดได้ด้วยค่าสุ่มตั้งต้น (seed) ที่เผยแพร่ เป็นตัวเลือก 0/1 "
                    "ที่เป็น 1 ไม่เกิน k และข้อความตรวจสอบลงนามด้วยข้อมูลประจำตัวของบัตรนั้น"),
    "audits.not_counted": ("no audited ballot is counted; every one is excluded as audited",
                           "ไม่มีบัตรตรวจสอบใบใดถูกนับ และทุกใบถูกตัดออกด้วยเหตุผล audited"),
    "audits.seeds_secret": ("no published seed opens a counted ballot; no other object of the "
                            "record carries a seed",
                            "ไม่มีค่าสุ่มตั้งต้นที่เผยแพร่ใดเปิดบัตรที่นับได้ "
                            "และไม่มีวัตถุอื่นในบันทึกที่มีค่าสุ่มตั้งต้น"),
    "poll.extensions": ("every poll extension is signed by two distinct pinned officials, "
                        "chained, made before the close in force, at most 3 of at most 24 h",
                        "การขยายเวลาปิดหีบทุกครั้งลงนามโดยเจ้าหน้าที่สองคนที่ตรึงไว้ ต่อเนื่องกัน "
                        "ทำก่อนเวลาปิดที่มีผลอยู่ ไม่เกิน 3 ครั้ง ครั้งละไม่เกิน 24 ชั่วโมง"),
    "results.lots": ("every lot at a tied last seat names exactly the tied candidates, the seats "
                     "they compete for and chosen ones among them, signed by two pinned officials",
                     "การจับสลากที่ที่นั่งสุดท้ายคะแนนเท่ากันทุกครั้งระบุผู้สมัครที่คะแนนเท่ากันครบถ้วน "
                     "จำนวนที่นั่ง และผู้ได้รับเลือกจากในกลุ่มนั้น ลงนามโดยเจ้าหน้าที่สองคนที่ตรึงไว้"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    "dependency": ("not checked: {input} is missing or failed an earlier check",
                   "ตรวจไม่ได้: {input} ไม่มีหรือไม่ผ่านการตรวจก่อนหน้า"),
    "internal_error": ("the verifier could not complete this check: {error}",
                       "โปรแกรมตรวจสอบทำการตรวจนี้ไม่สำเร็จ: {error}"),
    # 1
    "format.shape": ("FORMAT.json must have exactly the keys format and version",
                     "FORMAT.json ต้องมีเฉพาะคีย์ format และ version"),
    "format.missing": ("required file is missing", "ไม่พบไฟล์ที่ต้องมี"),
    "format.no_shares": ("no decryption share file", "ไม่มีไฟล์ส่วนถอดรหัส"),
    "format.unexpected": ("file is not part of the record layout",
                          "ไฟล์นี้ไม่อยู่ในโครงสร้างของบันทึก"),
    "format.version": ("format ssbvote-record version {version}, {files} files",
                       "รูปแบบ ssbvote-record เวอร์ชัน {version} จำนวน {files} ไฟล์"),
    # 2
    "hashes.missing": ("HASHES.json is missing", "ไม่พบ HASHES.json"),
    "hashes.shape": ("HASHES.json is malformed: {error}", "HASHES.json ผิดรูปแบบ: {error}"),
    "hashes.unlisted": ("file is not listed in HASHES.json", "ไฟล์ไม่อยู่ในรายการของ HASHES.json"),
    "hashes.mismatch": ("SHA-256 differs from HASHES.json", "SHA-256 ไม่ตรงกับ HASHES.json"),
    "hashes.absent": ("listed in HASHES.json but not in the record",
                      "มีในรายการ HASHES.json แต่ไม่มีในบันทึก"),
    "hashes.record_hash": ("record_hash is not the SHA-256 of the file list",
                           "record_hash ไม่ใช่ SHA-256 ของรายการไฟล์"),
    "hashes.record": ("record hash {record_hash} over {files} files",
                      "แฮชของบันทึก {record_hash} ครอบคลุม {files} ไฟล์"),
    # 3
    "manifest.election_id": ("election id {election_id}", "รหัสการเลือกตั้ง {election_id}"),
    "manifest.not_canonical": ("manifest.json is not canonical JSON",
                               "manifest.json ไม่ใช่ JSON รูปแบบมาตรฐาน"),
    "manifest.shape": ("manifest is not usable: {error}", "ใช้ manifest ไม่ได้: {error}"),
    "manifest.election_id_mismatch": ("election id {found} is not the manifest's",
                                      "รหัสการเลือกตั้ง {found} ไม่ตรงกับ manifest"),
    # 4
    "key.shape": ("election key is malformed: {error}", "กุญแจการเลือกตั้งผิดรูปแบบ: {error}"),
    "key.even": ("n is even", "n เป็นเลขคู่"),
    "key.too_large": ("n has {bits} bits, more than 8192", "n มี {bits} บิต เกิน 8192"),
    "key.too_small": ("n has only {bits} bits (at least 2048 required; test keys need "
                      "--allow-test-key and 512 bits)",
                      "n มีเพียง {bits} บิต (ต้องมีอย่างน้อย 2048 บิต กุญแจทดสอบต้องใช้ "
                      "--allow-test-key และอย่างน้อย 512 บิต)"),
    "key.test_key": ("TEST KEY: n has only {bits} bits, accepted because of --allow-test-key",
                     "กุญแจทดสอบ: n มีเพียง {bits} บิต ยอมรับเพราะใช้ --allow-test-key"),
    "key.prime": ("n is prime (a Paillier modulus is a product of two primes)",
                  "n เป็นจำนวนเฉพาะ (มอดุลัสของ Paillier ต้องเป็นผลคูณของจำนวนเฉพาะสองตัว)"),
    "key.perfect_power": ("n is a perfect power (n = a^k, k ≥ 2)",
                          "n เป็นกำลังสมบูรณ์ (n = a^k, k ≥ 2)"),
    "key.pollard": ("Pollard's p − 1 (bound 2^20) finds a factor of n: a prime factor p has a "
                    "smooth p − 1",
                    "วิธี p − 1 ของ Pollard (ขอบเขต 2^20) หาตัวประกอบของ n ได้: "
                    "มีตัวประกอบเฉพาะ p ที่ p − 1 แยกตัวประกอบเป็นจำนวนเล็กได้หมด"),
    "key.small_factor": ("n has a prime factor below 2^16", "n มีตัวประกอบเฉพาะที่น้อยกว่า 2^16"),
    "key.bits": ("n has {bits} bits", "n มี {bits} บิต"),
    # 5
    "key.trustee_count": ("{count} trustees (1 to 64 allowed)", "ผู้ถือกุญแจ {count} คน (อนุญาต 1 ถึง 64)"),
    "key.threshold_range": ("threshold t = {t} is not in 1..ℓ = {l}",
                            "เกณฑ์ t = {t} ไม่อยู่ในช่วง 1..ℓ = {l}"),
    "key.index_order": ("trustee index {index} where {expected} was expected",
                        "ลำดับผู้ถือกุญแจเป็น {index} แต่ควรเป็น {expected}"),
    "key.name_empty": ("trustee {index} has an empty name", "ผู้ถือกุญแจ {index} ไม่มีชื่อ"),
    "key.names_distinct": ("trustee names are not distinct", "ชื่อผู้ถือกุญแจซ้ำกัน"),
    "key.not_unit": ("{what} is not a unit below n²", "{what} ไม่ใช่หน่วยที่น้อยกว่า n²"),
    "key.signing_key": ("trustee {index}'s signing key is not 64 lowercase hex of an Ed25519 "
                        "public key",
                        "กุญแจลงนามของผู้ถือกุญแจ {index} ไม่ใช่เลขฐานสิบหกตัวพิมพ์เล็ก 64 หลัก"
                        "ของกุญแจสาธารณะ Ed25519"),
    "key.signing_keys_distinct": ("trustee signing keys are not distinct",
                                  "กุญแจลงนามของผู้ถือกุญแจซ้ำกัน"),
    "key.trustees": ("threshold {t} of {l} trustees", "เกณฑ์ {t} จาก {l} ผู้ถือกุญแจ"),
    # 6
    "chain.shape": ("board entry is malformed: {error}", "รายการบนกระดานผิดรูปแบบ: {error}"),
    "chain.not_canonical": ("line is not the canonical JSON of its entry",
                            "บรรทัดไม่ใช่ JSON มาตรฐานของรายการ"),
    "chain.seq": ("seq {found} where {expected} was expected (gap or reordering)",
                  "ลำดับเป็น {found} แต่ควรเป็น {expected} (ขาดตอนหรือสลับลำดับ)"),
    "chain.election_id": ("entry belongs to another election", "รายการเป็นของการเลือกตั้งอื่น"),
    "chain.prev_hash": ("prev_hash does not link to the previous entry",
                        "prev_hash ไม่เชื่อมกับรายการก่อนหน้า"),
    "chain.entry_hash": ("entry_hash is not the hash of the entry", "entry_hash ไม่ใช่แฮชของรายการ"),
    "chain.duplicate_seq": ("seq appears twice", "ลำดับซ้ำ"),
    "chain.entries": ("{count} board entries", "รายการบนกระดาน {count} รายการ"),
    # 7
    "ballots.shape": ("ballot line is malformed: {error}", "บรรทัดบัตรผิดรูปแบบ: {error}"),
    "ballots.duplicate": ("ballot listed twice", "บัตรปรากฏสองครั้ง"),
    "ballots.order": ("ballots are not in seq order", "บัตรไม่เรียงตามลำดับ"),
    "ballots.not_on_board": ("ballot has no board entry (added)", "บัตรไม่มีรายการบนกระดาน (ถูกเพิ่ม)"),
    "ballots.hash": ("ballot hash differs from the entry's ballot_hash",
                     "แฮชของบัตรไม่ตรงกับ ballot_hash ของรายการ"),
    "ballots.context": ("pseudonym or contest differs from the board entry",
                        "นามแฝงหรือการเลือกไม่ตรงกับรายการบนกระดาน"),
    "ballots.unknown_contest": ("contest {contest} is not in the manifest",
                                "การเลือก {contest} ไม่อยู่ใน manifest"),
    "ballots.missing": ("board entry has no ballot (removed)", "รายการบนกระดานไม่มีบัตร (ถูกลบ)"),
    "ballots.count": ("{count} ballots", "บัตร {count} ใบ"),
    # 8
    "checkpoints.board_key": ("board key is malformed: {error}", "กุญแจของกระดานผิดรูปแบบ: {error}"),
    "checkpoints.none": ("no checkpoint", "ไม่มีจุดตรวจ"),
    "checkpoints.shape": ("checkpoint is malformed: {error}", "จุดตรวจผิดรูปแบบ: {error}"),
    "checkpoints.signature": ("checkpoint signature is invalid", "ลายเซ็นของจุดตรวจไม่ถูกต้อง"),
    "checkpoints.election_id": ("checkpoint of another election", "จุดตรวจของการเลือกตั้งอื่น"),
    "checkpoints.head": ("(seq, head) is not on the chain", "(seq, head) ไม่อยู่บนสายโซ่"),
    "checkpoints.order": ("checkpoint seq goes backwards", "ลำดับจุดตรวจย้อนกลับ"),
    "checkpoints.final_count": ("{count} final checkpoints (exactly one required)",
                                "จุดตรวจปิด {count} จุด (ต้องมีหนึ่งจุดพอดี)"),
    "checkpoints.final_not_last": ("the final checkpoint is not the last one",
                                   "จุดตรวจปิดไม่ใช่จุดสุดท้าย"),
    "checkpoints.final_seq": ("the final checkpoint is not at the board's end (seq {expected})",
                              "จุดตรวจปิดไม่อยู่ที่ท้ายกระดาน (ลำดับ {expected})"),
    "checkpoints.count": ("{count} signed checkpoints", "จุดตรวจที่ลงนาม {count} จุด"),
    "checkpoints.board_key_pin": ("board_key.json is not the board key pinned in opening.json",
                                  "board_key.json ไม่ใช่กุญแจของกระดานที่ตรึงไว้ใน opening.json"),
    "checkpoints.opening": ("checkpoint's opening is not the opening hash",
                            "ค่า opening ของจุดตรวจไม่ใช่แฮชของวัตถุเปิดหีบ"),
    # 9
    "proofs.invalid": ("ballot proof invalid: {reason}", "หลักฐานของบัตรไม่ถูกต้อง: {reason}"),
    "proofs.summary": ("{count} ballots verified ({mode}, {backend}, {processes} processes, "
                       "{seconds} s)",
                       "ตรวจบัตร {count} ใบ ({mode}, {backend}, {processes} โปรเซส, {seconds} วินาที)"),
    # 10
    "overrides.shape": ("paper-override list is malformed: {error}",
                        "รายชื่อบัตรกระดาษผิดรูปแบบ: {error}"),
    "overrides.election_id": ("paper-override list of another election",
                              "รายชื่อบัตรกระดาษเป็นของการเลือกตั้งอื่น"),
    "overrides.not_sorted": ("pseudonyms are not sorted and unique", "นามแฝงไม่เรียงหรือซ้ำกัน"),
    "overrides.count": ("{count} paper voters", "ผู้ลงคะแนนด้วยบัตรกระดาษ {count} คน"),
    # 11
    "counted.shape": ("counted.json is malformed: {error}", "counted.json ผิดรูปแบบ: {error}"),
    "counted.not_sorted": ("the {list} list is not sorted by seq", "รายการ {list} ไม่เรียงตามลำดับ"),
    "counted.duplicate": ("ballot appears twice", "บัตรปรากฏสองครั้ง"),
    "counted.unknown": ("ballot is not on the board for this contest",
                        "บัตรไม่อยู่บนกระดานของการเลือกนี้"),
    "counted.pseudonym": ("pseudonym differs from the board", "นามแฝงไม่ตรงกับกระดาน"),
    "counted.should_count": ("ballot must be counted but is excluded as '{found}'",
                             "บัตรต้องถูกนับ แต่ถูกตัดออกด้วยเหตุผล '{found}'"),
    "counted.should_exclude": ("ballot is counted but must be excluded ({expected})",
                               "บัตรถูกนับ แต่ต้องถูกตัดออก ({expected})"),
    "counted.wrong_reason": ("excluded as '{found}' but the reason is '{expected}'",
                             "ถูกตัดออกด้วยเหตุผล '{found}' แต่เหตุผลที่ถูกคือ '{expected}'"),
    "counted.missing": ("ballot is neither counted nor excluded", "บัตรไม่ถูกนับและไม่ถูกตัดออก"),
    "counted.summary": ("{counted} ballots counted, {excluded} excluded",
                        "นับบัตร {counted} ใบ ตัดออก {excluded} ใบ"),
    # 12
    "aggregate.shape": ("encrypted_tally.json is malformed: {error}",
                        "encrypted_tally.json ผิดรูปแบบ: {error}"),
    "aggregate.count": ("counted_ballots is {found}, the counted list has {expected}",
                        "counted_ballots เป็น {found} แต่รายการบัตรที่นับมี {expected}"),
    "aggregate.bad_ballot": ("counted ballot has no readable ciphertexts",
                             "บัตรที่นับไม่มีข้อความเข้ารหัสที่อ่านได้"),
    "aggregate.mismatch": ("tally ciphertext is not the product of the counted ballots",
                           "ข้อความเข้ารหัสของผลรวมไม่ใช่ผลคูณของบัตรที่นับ"),
    # 13
    "shares.shape": ("decryption share file is malformed: {error}",
                     "ไฟล์ส่วนถอดรหัสผิดรูปแบบ: {error}"),
    "shares.index_mismatch": ("file says index {found}", "ไฟล์ระบุลำดับ {found}"),
    "shares.unknown_trustee": ("no such trustee in the election key",
                               "ไม่มีผู้ถือกุญแจนี้ในกุญแจการเลือกตั้ง"),
    "shares.name_mismatch": ("trustee name {found} is not {expected}",
                             "ชื่อผู้ถือกุญแจ {found} ไม่ใช่ {expected}"),
    "shares.contests": ("shares do not cover exactly the manifest's contests",
                        "ส่วนถอดรหัสไม่ครอบคลุมการเลือกทั้งหมดใน manifest พอดี"),
    "shares.invalid": ("decryption share invalid: {reason}", "ส่วนถอดรหัสไม่ถูกต้อง: {reason}"),
    "shares.valid": ("valid shares from trustees {trustees}", "ส่วนถอดรหัสที่ถูกต้องจากผู้ถือกุญแจ {trustees}"),
    "shares.unsigned": ("the share file fails check 28 (tally.share_signatures): its shares "
                        "count as not verifying",
                        "ไฟล์ส่วนถอดรหัสไม่ผ่านการตรวจที่ 28 (tally.share_signatures) "
                        "จึงถือว่าส่วนถอดรหัสไม่ถูกต้อง"),
    # 14
    "results.shape": ("results.json is malformed: {error}", "results.json ผิดรูปแบบ: {error}"),
    "results.not_enough_shares": ("only {valid} valid trustees, threshold {t}",
                                  "ผู้ถือกุญแจที่ถูกต้องมีเพียง {valid} คน เกณฑ์คือ {t}"),
    "results.trustees_used": ("trustees_used is {found}, expected {expected}",
                              "trustees_used เป็น {found} แต่ควรเป็น {expected}"),
    "results.counted_ballots": ("counted_ballots is {found}, the tally says {expected}",
                                "counted_ballots เป็น {found} แต่ผลรวมระบุ {expected}"),
    "results.max_selections": ("max_selections is {found}, the manifest says {expected}",
                               "max_selections เป็น {found} แต่ manifest ระบุ {expected}"),
    "results.candidate": ("candidate data differs from the manifest",
                          "ข้อมูลผู้สมัครไม่ตรงกับ manifest"),
    "results.combine_failed": ("shares do not combine: {reason}", "รวมส่วนถอดรหัสไม่ได้: {reason}"),
    "results.plaintext_range": ("decrypted count is out of range", "คะแนนที่ถอดรหัสได้อยู่นอกช่วง"),
    "results.count": ("published {found} votes, the decryption gives {expected}",
                      "ประกาศ {found} คะแนน แต่การถอดรหัสได้ {expected}"),
    "results.used": ("decrypted with trustees {trustees}", "ถอดรหัสด้วยผู้ถือกุญแจ {trustees}"),
    # 15
    "elected.mismatch": ("elected {found}, the rule gives {expected}",
                         "ผู้ได้รับเลือก {found} แต่ตามกฎต้องเป็น {expected}"),
    "elected.tie_flag": ("tie_at_last_seat must be {expected}", "tie_at_last_seat ต้องเป็น {expected}"),
    # 16
    "plausible.count": ("{votes} votes but only {counted} ballots counted",
                        "{votes} คะแนน แต่นับบัตรเพียง {counted} ใบ"),
    "plausible.sum": ("{total} votes in total, more than k × counted = {limit}",
                      "คะแนนรวม {total} เกิน k × จำนวนบัตร = {limit}"),
    # 17
    "pins.shape": ("opening.json is malformed: {error}", "opening.json ผิดรูปแบบ: {error}"),
    "pins.no_ca_key": ("no CA key given: pass the CA key published by the credential "
                       "authority (printed on every credential letter) with --ca-key; a key "
                       "found only inside the record proves nothing",
                       "ไม่ได้ระบุกุญแจของผู้ออกข้อมูลประจำตัว: ให้ใส่กุญแจที่ผู้ออกข้อมูลประจำตัวเผยแพร่ "
                       "(พิมพ์อยู่บนจดหมายข้อมูลประจำตัวทุกฉบับ) ด้วย --ca-key "
                       "กุญแจที่พบเฉพาะในบันทึกพิสูจน์อะไรไม่ได้"),
    "pins.ca_key": ("the opening pins CA key {found}, not the key given with --ca-key ({given})",
                    "วัตถุเปิดหีบตรึงกุญแจผู้ออกข้อมูลประจำตัว {found} ไม่ใช่กุญแจที่ให้ด้วย --ca-key ({given})"),
    "pins.signature": ("the opening is not signed by the CA key {key}",
                       "วัตถุเปิดหีบไม่ได้ลงนามด้วยกุญแจผู้ออกข้อมูลประจำตัว {key}"),
    "pins.election_id": ("opening of another election", "วัตถุเปิดหีบเป็นของการเลือกตั้งอื่น"),
    "pins.file": ("the opening's {pin} is not the SHA-256 of this file",
                  "ค่า {pin} ในวัตถุเปิดหีบไม่ใช่ SHA-256 ของไฟล์นี้"),
    "pins.board_key": ("the opening's board_key is not the key of board_key.json",
                       "ค่า board_key ในวัตถุเปิดหีบไม่ใช่กุญแจใน board_key.json"),
    "pins.opening_hash": ("opening is not the hash of opening.json",
                          "ค่า opening ไม่ใช่แฮชของ opening.json"),
    "pins.hash": ("opening hash {hash}, {officials} officials pinned",
                  "แฮชของวัตถุเปิดหีบ {hash} ตรึงเจ้าหน้าที่ {officials} คน"),
    # 18
    "credentials.shape": ("credential list is malformed: {error}",
                          "รายการข้อมูลประจำตัวผิดรูปแบบ: {error}"),
    "credentials.election_id": ("credential list of another election",
                                "รายการข้อมูลประจำตัวเป็นของการเลือกตั้งอื่น"),
    "credentials.contests": ("lists for contests {found}: not among the manifest's contests "
                             "({expected})",
                             "รายการของการเลือก {found} ไม่อยู่ในการเลือกของ manifest ({expected})"),
    "credentials.two_contests": ("credential is in the lists of several contests ({contests})",
                                 "ข้อมูลประจำตัวอยู่ในรายการของหลายการเลือก ({contests})"),
    "credentials.signature": ("credential list is not signed by the pinned CA key",
                              "รายการข้อมูลประจำตัวไม่ได้ลงนามด้วยกุญแจผู้ออกข้อมูลประจำตัวที่ตรึงไว้"),
    "credentials.count": ("{count} credentials of contest {contest}",
                          "ข้อมูลประจำตัว {count} รายการของการเลือก {contest}"),
    "revocations.shape": ("revocation is malformed: {error}", "การเพิกถอนผิดรูปแบบ: {error}"),
    "revocations.election_id": ("revocation of another election",
                                "การเพิกถอนเป็นของการเลือกตั้งอื่น"),
    "revocations.signature": ("revocation is not signed by the pinned CA key",
                              "การเพิกถอนไม่ได้ลงนามด้วยกุญแจผู้ออกข้อมูลประจำตัวที่ตรึงไว้"),
    "revocations.contest": ("contest {contest} has no list in the credential list",
                            "การเลือก {contest} ไม่มีรายการในรายการข้อมูลประจำตัว"),
    "revocations.not_live": ("revokes a credential that is not a live credential of contest "
                             "{contest}",
                             "เพิกถอนข้อมูลประจำตัวที่ไม่ใช่ข้อมูลประจำตัวที่ใช้ได้ของการเลือก {contest}"),
    "revocations.not_new": ("replacement {replacement} is not a new credential",
                            "ข้อมูลประจำตัวใหม่ {replacement} ไม่ใช่ข้อมูลประจำตัวที่ไม่เคยมี"),
    "revocations.count": ("{count} revocations", "การเพิกถอน {count} รายการ"),
    # 19
    "signatures.unknown_credential": ("credential is not one of contest {contest}'s "
                                      "(neither listed nor a replacement)",
                                      "ข้อมูลประจำตัวไม่ใช่ของการเลือก {contest} "
                                      "(ไม่อยู่ในรายการและไม่ใช่ข้อมูลประจำตัวใหม่)"),
    "signatures.other_contest": ("ballot sits in contest {contest}, but its credential is "
                                 "listed under contest {other} (the contest its voter is "
                                 "routed to)",
                                 "บัตรอยู่ในการเลือก {contest} แต่ข้อมูลประจำตัวของบัตรอยู่ในรายการ"
                                 "ของการเลือก {other} (การเลือกที่ผู้ลงคะแนนมีสิทธิ์)"),
    "signatures.invalid": ("ballot signature does not verify with its credential",
                           "ลายเซ็นของบัตรไม่ถูกต้องตามข้อมูลประจำตัว"),
    "signatures.chain": ("previous is {found}, the credential's ballot before (seq {last}) has "
                         "hash {expected}",
                         "previous เป็น {found} แต่บัตรก่อนหน้าของข้อมูลประจำตัวนี้ (ลำดับ {last}) "
                         "มีแฮช {expected}"),
    "signatures.credential_pseudonyms": ("credential used with pseudonym {pseudonym} and "
                                         "{other}",
                                         "ข้อมูลประจำตัวถูกใช้กับนามแฝง {pseudonym} และ {other}"),
    "signatures.pseudonym_credentials": ("pseudonym {pseudonym} also voted with credential "
                                         "{other}, not revoked in favour of this one",
                                         "นามแฝง {pseudonym} ลงคะแนนด้วยข้อมูลประจำตัว {other} "
                                         "ด้วย ซึ่งไม่ได้ถูกเพิกถอนเพื่อแทนด้วยข้อมูลประจำตัวนี้"),
    "signatures.count": ("{count} ballot signatures valid, {credentials} credentials voted",
                         "ลายเซ็นของบัตรถูกต้อง {count} ใบ ข้อมูลประจำตัวที่ลงคะแนน {credentials} รายการ"),
    # 20
    "unique.duplicate": ("ballot_hash {ballot_hash} already on the board at seq {first}",
                         "ballot_hash {ballot_hash} มีอยู่แล้วบนกระดานที่ลำดับ {first}"),
    "unique.count": ("{count} distinct ballots", "บัตรที่ไม่ซ้ำกัน {count} ใบ"),
    # 21
    "times.poll_window": ("the manifest's poll window is not usable: {error}",
                          "ใช้ช่วงเวลาเปิดหีบใน manifest ไม่ได้: {error}"),
    "times.window": ("cast_at {cast_at} is outside the poll window {opens} – {closes}",
                     "เวลาลงคะแนน {cast_at} อยู่นอกช่วงเปิดหีบ {opens} – {closes}"),
    "times.decreasing": ("cast_at {cast_at} is before that of seq {previous} ({previous_at})",
                         "เวลาลงคะแนน {cast_at} ก่อนเวลาของลำดับ {previous} ({previous_at})"),
    "times.summary": ("poll window {opens} – {closes}", "ช่วงเปิดหีบ {opens} – {closes}"),
    # 22
    "officials.opening": ("the paper list's opening is not the opening hash",
                          "ค่า opening ของรายชื่อบัตรกระดาษไม่ใช่แฮชของวัตถุเปิดหีบ"),
    "officials.count": ("{count} signatures (two officials required)",
                        "มีลายเซ็น {count} รายการ (ต้องมีเจ้าหน้าที่สองคน)"),
    "officials.shape": ("signature is malformed: {error}", "ลายเซ็นผิดรูปแบบ: {error}"),
    "officials.twice": ("the same official signs twice", "เจ้าหน้าที่คนเดียวกันลงนามสองครั้ง"),
    "officials.unpinned": ("official is not pinned in the opening",
                           "เจ้าหน้าที่ไม่ได้ถูกตรึงไว้ในวัตถุเปิดหีบ"),
    "officials.signature": ("official's signature does not verify with the pinned key",
                            "ลายเซ็นของเจ้าหน้าที่ไม่ถูกต้องตามกุญแจที่ตรึงไว้"),
    "officials.signed": ("signed by {officials}", "ลงนามโดย {officials}"),
    "extensions.shape": ("poll extension is malformed: {error}", "การขยายเวลาปิดหีบผิดรูปแบบ: {error}"),
    "extensions.type": ("poll extension's type is not ssbvote-poll-extension",
                        "ชนิดของการขยายเวลาปิดหีบไม่ใช่ ssbvote-poll-extension"),
    "extensions.election_id": ("poll extension of another election", "การขยายเวลาปิดหีบของการเลือกตั้งอื่น"),
    "extensions.opening": ("poll extension's opening is not the opening hash",
                           "วัตถุเปิดหีบของการขยายเวลาไม่ตรงกับแฮชของวัตถุเปิดหีบ"),
    "extensions.too_many": ("more than {limit} poll extensions", "ขยายเวลาปิดหีบเกิน {limit} ครั้ง"),
    "extensions.reason": ("the reason is empty or longer than {limit} characters",
                          "เหตุผลว่างหรือยาวเกิน {limit} ตัวอักษร"),
    "extensions.chain": ("previous_closes {previous_closes} is not the close in force {close}",
                         "previous_closes {previous_closes} ไม่ใช่เวลาปิดที่มีผลอยู่ {close}"),
    "extensions.not_later": ("closes {closes} is not later than the close in force {close}",
                             "closes {closes} ไม่ช้ากว่าเวลาปิดที่มีผลอยู่ {close}"),
    "extensions.too_long": ("closes {closes} moves the close {close} by more than 24 hours",
                            "closes {closes} เลื่อนเวลาปิด {close} เกิน 24 ชั่วโมง"),
    "extensions.after_close": ("made at {at}, not while the polls were open before the close in "
                               "force {close}",
                               "ทำเมื่อ {at} ไม่ใช่ระหว่างเปิดหีบก่อนเวลาปิดที่มีผลอยู่ {close}"),
    "extensions.order": ("made at {at}, before the previous extension",
                         "ทำเมื่อ {at} ก่อนการขยายเวลาครั้งก่อน"),
    "extensions.none": ("no poll extension: the manifest's close holds",
                        "ไม่มีการขยายเวลาปิดหีบ ใช้เวลาปิดตามประกาศ"),
    "extensions.count": ("{count} poll extensions; effective close {close}",
                         "ขยายเวลาปิดหีบ {count} ครั้ง เวลาปิดที่มีผล {close}"),
    "lots.shape": ("lots.json is malformed: {error}", "lots.json ผิดรูปแบบ: {error}"),
    "lots.type": ("lot's type is not ssbvote-lot", "ชนิดของการจับสลากไม่ใช่ ssbvote-lot"),
    "lots.election_id": ("lot of another election", "การจับสลากของการเลือกตั้งอื่น"),
    "lots.opening": ("lot's opening is not the opening hash",
                     "วัตถุเปิดหีบของการจับสลากไม่ตรงกับแฮชของวัตถุเปิดหีบ"),
    "lots.order": ("lots are not sorted by contest or a contest has two lots",
                   "การจับสลากไม่เรียงตามการเลือกหรือมีสองครั้งในการเลือกเดียว"),
    "lots.no_tie": ("a lot for a contest whose last seat is not tied",
                    "จับสลากในการเลือกที่ที่นั่งสุดท้ายไม่มีคะแนนเท่ากัน"),
    "lots.tied": ("tied is not exactly the candidates with the last seat's votes ({tied})",
                  "รายชื่อผู้ที่คะแนนเท่ากันไม่ตรงกับผู้สมัครที่ได้คะแนนเท่าที่นั่งสุดท้าย ({tied})"),
    "lots.seats": ("seats is not {seats}, the seats the tied candidates compete for",
                   "จำนวนที่นั่งไม่ใช่ {seats} ซึ่งเป็นที่นั่งที่ผู้คะแนนเท่ากันแข่งขัน"),
    "lots.chosen": ("chosen is not {seats} distinct tied candidates, sorted",
                    "ผู้ได้รับเลือกไม่ใช่ผู้สมัครที่คะแนนเท่ากัน {seats} คนที่ไม่ซ้ำและเรียงลำดับ"),
    "lots.undecided": ("contest {contest}: tie at the last seat not yet decided by lot",
                       "การเลือก {contest}: ที่นั่งสุดท้ายคะแนนเท่ากัน ยังไม่ได้ตัดสินโดยการจับสลาก"),
    "lots.count": ("{count} lots recorded", "บันทึกการจับสลาก {count} ครั้ง"),
    # 23
    "turnout.exceeds": ("{counted} ballots counted, but the contest has only {credentials} "
                        "credentials",
                        "นับบัตร {counted} ใบ แต่การเลือกนี้มีข้อมูลประจำตัวเพียง "
                        "{credentials} รายการ"),
    "turnout.contest": ("{contest}: {counted} of {credentials} credentials counted ({percent} %)",
                        "{contest}: นับ {counted} จาก {credentials} ข้อมูลประจำตัว ({percent} %)"),
    # 24–27
    "key.requires": ("not checked: check {number} ({check}) failed",
                     "ตรวจไม่ได้: การตรวจที่ {number} ({check}) ไม่ผ่าน"),
    "key.proof_shape": ("the {proof} proof is malformed: {error}",
                        "หลักฐาน {proof} ผิดรูปแบบ: {error}"),
    "key.proof_invalid": ("the {proof} proof does not verify: {reason}",
                          "หลักฐาน {proof} ไม่ถูกต้อง: {reason}"),
    "key.factor_bound": ("both prime factors of n exceed 2^{bound}",
                         "ตัวประกอบเฉพาะทั้งสองของ n มากกว่า 2^{bound}"),
    "key.base_not_derived": ("verification_base is not the value derived from the key id "
                             "(docs/protocol.md §6.6): the dealer chose it",
                             "verification_base ไม่ใช่ค่าที่ได้จากรหัสกุญแจ "
                             "(docs/protocol.md §6.6) ผู้สร้างกุญแจเลือกเอง"),
    "key.short_base_degenerate": ("the short base h_s derived from n is not a unit of Z*ₙ² "
                                  "other than 1 (docs/protocol.md §5.0)",
                                  "ฐานสั้น h_s ที่ได้จาก n ไม่ใช่หน่วยของ Z*ₙ² ที่ไม่ใช่ 1 "
                                  "(docs/protocol.md §5.0)"),
    "key.small_order": ("{what} has order below 2^16",
                        "{what} มีอันดับต่ำกว่า 2^16"),
    "key.key_id": ("key id {key_id}", "รหัสกุญแจ {key_id}"),
    "key.consistency": ("trustee {index}'s verification key is not on the polynomial of "
                        "trustees 1..{t} (consistency equation)",
                        "กุญแจตรวจสอบของผู้ถือกุญแจ {index} ไม่อยู่บนพหุนามเดียวกับผู้ถือกุญแจ "
                        "1..{t} (สมการความสอดคล้อง)"),
    "key.secret": ("the trustees do not share d ≡ 1 (mod n): ∏ v_i^λ_i(0) ≠ 1 + 2κΔ²·n "
                   "(secret equation; e.g. a dealer that shared 0)",
                   "ผู้ถือกุญแจไม่ได้แบ่งกุญแจ d ≡ 1 (mod n): ∏ v_i^λ_i(0) ≠ 1 + 2κΔ²·n "
                   "(สมการความลับ เช่น ผู้สร้างกุญแจแบ่งค่า 0)"),
    # 28
    "share_signatures.shape": ("decryption share file is malformed: {error}",
                         "ไฟล์ส่วนถอดรหัสผิดรูปแบบ: {error}"),
    "share_signatures.type": ("type is {found}, not ssbvote-decryption-shares",
                        "type เป็น {found} ไม่ใช่ ssbvote-decryption-shares"),
    "share_signatures.election_id": ("election_id {found} is not the record's",
                               "election_id {found} ไม่ใช่ของบันทึกนี้"),
    "share_signatures.tally": ("tally {found} is not the SHA-256 of tally/encrypted_tally.json "
                         "({expected}): the shares were signed for another tally",
                         "tally {found} ไม่ใช่ SHA-256 ของ tally/encrypted_tally.json "
                         "({expected}) ส่วนถอดรหัสลงนามไว้สำหรับผลรวมอื่น"),
    "share_signatures.unknown_trustee": ("no trustee with this index and name in the election key",
                                   "ไม่มีผู้ถือกุญแจลำดับและชื่อนี้ในกุญแจการเลือกตั้ง"),
    "share_signatures.bad_key": ("the trustee's signing key in the election key is unusable",
                           "กุญแจลงนามของผู้ถือกุญแจในกุญแจการเลือกตั้งใช้ไม่ได้"),
    "share_signatures.invalid": ("signature does not verify with the signing key of trustee {index}",
                           "ลายเซ็นไม่ถูกต้องตามกุญแจลงนามของผู้ถือกุญแจ {index}"),
    "share_signatures.signed_by": ("signed by the signing key of trustee {signer}, not of trustee "
                             "{index}",
                             "ลงนามด้วยกุญแจลงนามของผู้ถือกุญแจ {signer} "
                             "ไม่ใช่ของผู้ถือกุญแจ {index}"),
    "share_signatures.files": ("signed share files from trustees {trustees}",
                         "ไฟล์ส่วนถอดรหัสที่ลงนามถูกต้องจากผู้ถือกุญแจ {trustees}"),
    # 29
    "audits.signature": ("the audit's signature does not verify over the audit statement "
                         "(type ssbvote-audit) with its credential",
                         "ลายเซ็นของการตรวจสอบบัตรไม่ถูกต้องตามข้อความตรวจสอบ "
                         "(type ssbvote-audit) กับข้อมูลประจำตัวของบัตร"),
    "audits.unknown_contest": ("contest {contest} is not in the manifest",
                               "การเลือก {contest} ไม่อยู่ใน manifest"),
    "audits.no_ballot": ("the audit entry has no ballot in board/ballots.jsonl",
                         "รายการตรวจสอบบัตรไม่มีบัตรใน board/ballots.jsonl"),
    "audits.ballot_hash": ("the ballot line does not hash to the audit entry's ballot_hash",
                           "แฮชของบรรทัดบัตรไม่ตรงกับ ballot_hash ของรายการตรวจสอบบัตร"),
    "audits.not_open": ("the published seed does not open the audited ballot: {reason}",
                        "ค่าสุ่มตั้งต้นที่เผยแพร่เปิดบัตรตรวจสอบไม่ได้: {reason}"),
    "audits.summary": ("{opened} of {count} audited ballots open with their seeds",
                       "บัตรตรวจสอบ {opened} จาก {count} ใบเปิดได้ด้วยค่าสุ่มตั้งต้นของตน"),
    # 30
    "audits.counted": ("an audited ballot is in the counted list",
                       "บัตรตรวจสอบอยู่ในรายการบัตรที่นับ"),
    "audits.reason": ("the audited ballot is excluded as '{found}', not 'audited'",
                      "บัตรตรวจสอบถูกตัดออกด้วยเหตุผล '{found}' ไม่ใช่ 'audited'"),
    "audits.not_excluded": ("the audited ballot is not excluded in its contest",
                            "บัตรตรวจสอบไม่ถูกตัดออกในการเลือกของตน"),
    "audits.excluded": ("{count} audited ballots, none counted",
                        "บัตรตรวจสอบ {count} ใบ ไม่มีใบใดถูกนับ"),
    # 31
    "seeds.field": ("the record carries a seed outside an audit entry ({field})",
                    "บันทึกมีค่าสุ่มตั้งต้นนอกรายการตรวจสอบบัตร ({field})"),
    "seeds.opens_counted": ("the audit's seed opens the counted ballot at seq {counted}: that "
                            "cast ballot's secret is public",
                            "ค่าสุ่มตั้งต้นของการตรวจสอบนี้เปิดบัตรที่นับที่ลำดับ {counted} ได้ "
                            "ความลับของบัตรที่ลงคะแนนนั้นถูกเปิดเผย"),
    "seeds.tested": ("{audits} audit seeds tested against {pairs} counted ballots of their "
                     "credentials",
                     "ทดสอบค่าสุ่มตั้งต้นของการตรวจสอบ {audits} รายการกับบัตรที่นับ {pairs} ใบ"
                     "ของข้อมูลประจำตัวเดียวกัน"),
}

UI: dict[str, tuple[str, str]] = {
    "title": ("SSB Vote — independent verification of the election record",
              "SSB Vote — การตรวจสอบบันทึกการเลือกตั้งโดยอิสระ"),
    "record": ("Record", "บันทึก"),
    "election_id": ("Election id", "รหัสการเลือกตั้ง"),
    "pass": ("PASS", "ผ่าน"),
    "fail": ("FAIL", "ไม่ผ่าน"),
    "more": ("… and {count} more", "… และอีก {count} รายการ"),
    "all_passed": ("RESULT: all {total} checks passed — the record is consistent.",
                   "ผลการตรวจ: ผ่านทั้ง {total} รายการ — บันทึกการเลือกตั้งถูกต้องสอดคล้องกัน"),
    "some_failed": ("RESULT: {failed} of {total} checks FAILED: {names}",
                    "ผลการตรวจ: ไม่ผ่าน {failed} จาก {total} รายการ: {names}"),
    "unreadable": ("The record cannot be read: {error}", "อ่านบันทึกไม่ได้: {error}"),
    "results_header": ("Verified results", "ผลการเลือกตั้งที่ตรวจสอบแล้ว"),
    "votes": ("votes", "คะแนน"),
    "elected": ("elected", "ได้รับเลือก"),
    "progress": ("Verifying ballot proofs", "กำลังตรวจหลักฐานของบัตร"),
}

#: Voter mode (docs/record.md §5.1): ``receipt.<status>`` of verifier.receipt.ReceiptResult.
RECEIPT: dict[str, tuple[str, str]] = {
    "title": ("SSB Vote — check of your receipt", "SSB Vote — ตรวจสอบใบรับของท่าน"),
    "on_board": ("Your ballot (seq {seq}, contest {contest}) is on the board with the ballot "
                 "hash and entry hash of your receipt.",
                 "บัตรของท่าน (ลำดับ {seq} การเลือก {contest}) อยู่บนกระดาน "
                 "ด้วยแฮชของบัตรและแฮชของรายการตรงกับใบรับของท่าน"),
    "counted": ("It was COUNTED.", "บัตรนี้ถูกนับแล้ว"),
    "superseded": ("It was SUPERSEDED: you voted again with the same credential; your latest "
                   "ballot is seq {later}, and that one is the ballot that counts.",
                   "บัตรนี้ถูกแทนที่: ท่านลงคะแนนอีกครั้งด้วยข้อมูลประจำตัวเดิม "
                   "บัตรล่าสุดของท่านคือลำดับ {later} และบัตรนั้นเป็นบัตรที่นับ"),
    "paper_vote": ("It was EXCLUDED because you voted on paper: your paper ballot counts "
                   "instead.",
                   "บัตรนี้ไม่ถูกนับเพราะท่านลงคะแนนด้วยบัตรกระดาษ บัตรกระดาษของท่านถูกนับแทน"),
    "revoked": ("It was EXCLUDED because its credential was revoked by the credential "
                "authority (a replacement credential was issued).",
                "บัตรนี้ไม่ถูกนับเพราะข้อมูลประจำตัวที่ใช้ถูกผู้ออกข้อมูลประจำตัวเพิกถอน "
                "(มีการออกข้อมูลประจำตัวใหม่แทน)"),
    "invalid": ("It was EXCLUDED as invalid: {why}. The server should have refused it: report "
                "this to the Election Commission with your receipt.",
                "บัตรนี้ไม่ถูกนับเพราะไม่ถูกต้อง: {why} เซิร์ฟเวอร์ควรปฏิเสธบัตรนี้ตั้งแต่แรก "
                "โปรดแจ้งคณะกรรมการการเลือกตั้งพร้อมใบรับของท่าน"),
    "unlisted": ("But the tally neither counted nor excluded it (tally/counted.json): the "
                 "record is faulty. Report this to the Election Commission with your receipt.",
                 "แต่การนับคะแนนไม่ได้นับและไม่ได้ตัดบัตรนี้ออก (tally/counted.json) "
                 "บันทึกผิดพลาด โปรดแจ้งคณะกรรมการการเลือกตั้งพร้อมใบรับของท่าน"),
    "missing": ("MISSING: the board has no ballot at seq {seq}, although the server signed "
                "your receipt. This is proof that your ballot was dropped: report it to the "
                "Election Commission with your receipt.",
                "ไม่พบบัตร: กระดานไม่มีบัตรที่ลำดับ {seq} ทั้งที่เซิร์ฟเวอร์ลงนามใบรับของท่านแล้ว "
                "นี่คือหลักฐานว่าบัตรของท่านถูกทิ้ง โปรดแจ้งคณะกรรมการการเลือกตั้งพร้อมใบรับของท่าน"),
    "different": ("DIFFERENT: the board's entry at seq {seq} differs from your receipt "
                  "({fields}), although the server signed your receipt. This is proof that "
                  "your ballot was replaced: report it to the Election Commission with your "
                  "receipt.",
                  "ไม่ตรงกัน: รายการบนกระดานที่ลำดับ {seq} ต่างจากใบรับของท่าน ({fields}) "
                  "ทั้งที่เซิร์ฟเวอร์ลงนามใบรับของท่านแล้ว นี่คือหลักฐานว่าบัตรของท่านถูกเปลี่ยน "
                  "โปรดแจ้งคณะกรรมการการเลือกตั้งพร้อมใบรับของท่าน"),
    "other_opening": ("Your receipt was signed under another opening ({found}) than the "
                      "record's ({expected}): the election's pinned keys were changed after "
                      "you voted. Report it to the Election Commission with your receipt.",
                      "ใบรับของท่านลงนามภายใต้วัตถุเปิดหีบอื่น ({found}) ไม่ใช่ของบันทึกนี้ "
                      "({expected}) กุญแจที่ตรึงไว้ของการเลือกตั้งถูกเปลี่ยนหลังจากท่านลงคะแนน "
                      "โปรดแจ้งคณะกรรมการการเลือกตั้งพร้อมใบรับของท่าน"),
    "unverifiable_opening": ("NOT VERIFIABLE AGAINST THIS RECORD: the receipt names another "
                             "opening ({found}) than the record's ({expected}), and its "
                             "signature does not verify with the record's board key ({key}). "
                             "Either it is not a receipt of this election, or the record's "
                             "pinned keys were replaced: observers see the latter with "
                             "python -m verifier RECORD --ca-key KEY (check 17).",
                             "ตรวจกับบันทึกนี้ไม่ได้: ใบรับระบุวัตถุเปิดหีบอื่น ({found}) "
                             "ไม่ใช่ของบันทึกนี้ ({expected}) และลายเซ็นไม่ถูกต้องตามกุญแจของกระดานในบันทึก "
                             "({key}) อาจไม่ใช่ใบรับของการเลือกตั้งนี้ หรือกุญแจที่ตรึงไว้ในบันทึกถูกเปลี่ยน "
                             "ผู้สังเกตการณ์ตรวจได้ด้วย python -m verifier RECORD --ca-key KEY (การตรวจที่ 17)"),
    "opening_not_ca": ("The record's opening.json is not signed by the CA key you gave "
                       "({key}): the record's pinned keys cannot be trusted. Report it to the "
                       "Election Commission.",
                       "opening.json ของบันทึกไม่ได้ลงนามด้วยกุญแจผู้ออกข้อมูลประจำตัวที่ท่านให้ "
                       "({key}) จึงเชื่อถือกุญแจที่ตรึงไว้ในบันทึกไม่ได้ โปรดแจ้งคณะกรรมการการเลือกตั้ง"),
    "incomplete": ("The record has no usable {file}: your receipt cannot be matched.",
                   "บันทึกไม่มี {file} ที่ใช้ได้ จึงตรวจใบรับของท่านไม่ได้"),
    "other_election": ("NOT A RECEIPT OF THIS ELECTION: the receipt is for election {found}, "
                       "this record is election {expected}.",
                       "ไม่ใช่ใบรับของการเลือกตั้งนี้: ใบรับเป็นของการเลือกตั้ง {found} "
                       "แต่บันทึกนี้คือการเลือกตั้ง {expected}"),
    "bad_signature": ("NOT A RECEIPT OF THIS ELECTION: its signature does not verify with the "
                      "board key pinned in the record ({key}); the receipt may have been "
                      "altered.",
                      "ไม่ใช่ใบรับของการเลือกตั้งนี้: ลายเซ็นไม่ถูกต้องตามกุญแจของกระดานที่ตรึงไว้ในบันทึก "
                      "({key}) ใบรับอาจถูกแก้ไข"),
    "not_cast": ("NOT CAST: the board's entry at seq {seq} is of kind '{kind}', not a cast "
                 "ballot, although the server signed your receipt for a cast ballot. Your "
                 "ballot is not counted: report it to the Election Commission with your "
                 "receipt.",
                 "ไม่ได้ลงคะแนน: รายการบนกระดานที่ลำดับ {seq} เป็นชนิด '{kind}' ไม่ใช่บัตรที่ลงคะแนน "
                 "ทั้งที่เซิร์ฟเวอร์ลงนามใบรับการลงคะแนนของท่านแล้ว บัตรของท่านจึงไม่ถูกนับ "
                 "โปรดแจ้งคณะกรรมการการเลือกตั้งพร้อมใบรับของท่าน"),
    "not_a_receipt": ("NOT A RECEIPT: the file is not an ssbvote-receipt object.",
                      "ไม่ใช่ใบรับ: ไฟล์นี้ไม่ใช่วัตถุ ssbvote-receipt"),
    "unreadable": ("The receipt cannot be read: {error}", "อ่านใบรับไม่ได้: {error}"),
    "full_check": ("This checks your ballot only. Observers check the whole record with "
                   "python -m verifier RECORD --ca-key KEY.",
                   "การตรวจนี้ตรวจเฉพาะบัตรของท่าน ผู้สังเกตการณ์ตรวจบันทึกทั้งหมดด้วย "
                   "python -m verifier RECORD --ca-key KEY"),
}

#: Tracker lookup (docs/record.md §5.1, ``--tracker T``): ``status`` of
#: verifier.tracker.check_tracker.
TRACKER: dict[str, tuple[str, str]] = {
    "title": ("SSB Vote — tracker lookup", "SSB Vote — ตรวจสอบรหัสติดตามบัตร"),
    "on_board": ("Tracker {short} ({tracker}) is on the board at seq {seq} (contest {contest}).",
                 "รหัสติดตามบัตร {short} ({tracker}) อยู่บนกระดานที่ลำดับ {seq} (การเลือก {contest})"),
    "counted": ("This ballot was COUNTED.", "บัตรนี้ถูกนับแล้ว"),
    "superseded": ("This ballot was SUPERSEDED: its credential cast again; the latest ballot "
                   "of that credential is seq {later}.",
                   "บัตรนี้ถูกแทนที่: ข้อมูลประจำตัวเดียวกันลงคะแนนอีกครั้ง "
                   "บัตรล่าสุดของข้อมูลประจำตัวนั้นคือลำดับ {later}"),
    "audited": ("This ballot was AUDITED: it was opened with its seed and is never counted. "
                "Check its choices with --audit and the audit code.",
                "บัตรนี้เป็นบัตรตรวจสอบ: เปิดดูได้ด้วยค่าสุ่มตั้งต้นและจะไม่ถูกนับ "
                "ท่านตรวจตัวเลือกได้ด้วย --audit และรหัสตรวจสอบบัตร"),
    "paper_vote": ("This ballot was EXCLUDED because its voter voted on paper.",
                   "บัตรนี้ไม่ถูกนับเพราะผู้ลงคะแนนลงคะแนนด้วยบัตรกระดาษ"),
    "revoked": ("This ballot was EXCLUDED because its credential was revoked by the "
                "credential authority.",
                "บัตรนี้ไม่ถูกนับเพราะข้อมูลประจำตัวที่ใช้ถูกผู้ออกข้อมูลประจำตัวเพิกถอน"),
    "invalid": ("This ballot was EXCLUDED as invalid: {why}. The server should have refused it.",
                "บัตรนี้ไม่ถูกนับเพราะไม่ถูกต้อง: {why} เซิร์ฟเวอร์ควรปฏิเสธบัตรนี้ตั้งแต่แรก"),
    "unlisted": ("But the tally lists it wrongly or not at all (tally/counted.json): the "
                 "record is faulty. Report it to the Election Commission.",
                 "แต่การนับคะแนนระบุบัตรนี้ผิดหรือไม่ได้ระบุเลย (tally/counted.json) "
                 "บันทึกผิดพลาด โปรดแจ้งคณะกรรมการการเลือกตั้ง"),
    "audit_misfiled": ("But this audited ballot is listed as '{found}', not as audited: an "
                       "audited ballot must never count. Report it to the Election Commission.",
                       "แต่บัตรตรวจสอบนี้ถูกระบุเป็น '{found}' ไม่ใช่ audited "
                       "บัตรตรวจสอบต้องไม่ถูกนับ โปรดแจ้งคณะกรรมการการเลือกตั้ง"),
    "moved": ("NOT AT ITS POSITION: the board's entry at seq {seq} does not have tracker "
              "{short}; the tracker is at seq {found}. Report it to the Election Commission "
              "with your receipt.",
              "ไม่อยู่ที่ตำแหน่งเดิม: รายการบนกระดานที่ลำดับ {seq} ไม่มีรหัสติดตามบัตร {short} "
              "แต่พบที่ลำดับ {found} โปรดแจ้งคณะกรรมการการเลือกตั้งพร้อมใบรับของท่าน"),
    "not_on_board": ("NOT ON THE BOARD: no ballot has tracker {short} ({tracker}). If the server "
                     "gave you a signed receipt for it, check that receipt with --receipt and "
                     "report it to the Election Commission.",
                     "ไม่พบบนกระดาน: ไม่มีบัตรใดมีรหัสติดตามบัตร {short} ({tracker}) "
                     "หากเซิร์ฟเวอร์ให้ใบรับที่ลงนามแล้วแก่ท่าน โปรดตรวจใบรับนั้นด้วย --receipt "
                     "และแจ้งคณะกรรมการการเลือกตั้ง"),
    "not_a_tracker": ("NOT A TRACKER: give the receipt's QR text (ssbvote-tracker:1:…) or the "
                      "full tracker (64 hex digits).",
                      "ไม่ใช่รหัสติดตามบัตร: โปรดใส่ข้อความ QR ของใบรับ (ssbvote-tracker:1:…) "
                      "หรือรหัสติดตามบัตรแบบเต็ม (เลขฐานสิบหก 64 หลัก)"),
    "full_check": ("A tracker shows where a ballot is, not what it contains. Observers check "
                   "the whole record with python -m verifier RECORD --ca-key KEY.",
                   "รหัสติดตามบัตรแสดงว่าบัตรอยู่ที่ใด ไม่ได้แสดงว่าบัตรมีอะไร "
                   "ผู้สังเกตการณ์ตรวจบันทึกทั้งหมดด้วย python -m verifier RECORD --ca-key KEY"),
}

#: Opening an audited ballot (docs/record.md §5.1, ``--audit CODE``): ``status`` of
#: verifier.auditcode.check_audit_code.
AUDIT: dict[str, tuple[str, str]] = {
    "title": ("SSB Vote — check of an audited ballot", "SSB Vote — ตรวจสอบบัตรตรวจสอบ"),
    "opened": ("The audited ballot at seq {seq} (tracker {short}, {tracker}) opens with its "
               "published seed. Compare the tracker with the one your voting device showed "
               "before you chose to check the ballot. The device encrypted:",
               "บัตรตรวจสอบที่ลำดับ {seq} (รหัสติดตามบัตร {short}, {tracker}) "
               "เปิดได้ด้วยค่าสุ่มตั้งต้นที่เผยแพร่ โปรดเทียบรหัสติดตามบัตรกับที่อุปกรณ์ลงคะแนนของท่าน"
               "แสดงก่อนท่านเลือกตรวจสอบบัตร อุปกรณ์เข้ารหัสไว้ดังนี้:"),
    "chosen": ("chosen", "เลือก"),
    "not_chosen": ("not chosen", "ไม่เลือก"),
    "none_chosen": ("No candidate chosen (an abstention).", "ไม่ได้เลือกผู้สมัครคนใด (งดออกเสียง)"),
    "audited_only": ("This ballot was audited, so it is never counted. If these are not the "
                     "choices you made, do not cast from that device: report it to the "
                     "Election Commission.",
                     "บัตรนี้เป็นบัตรตรวจสอบจึงไม่ถูกนับ หากตัวเลือกไม่ตรงกับที่ท่านเลือก "
                     "โปรดอย่าลงคะแนนจากอุปกรณ์นั้น และแจ้งคณะกรรมการการเลือกตั้ง"),
    "missing": ("NOT FOUND: the board has no entry at seq {seq}.",
                "ไม่พบ: กระดานไม่มีรายการที่ลำดับ {seq}"),
    "not_audit": ("NOT AN AUDIT: the board's entry at seq {seq} is of kind '{kind}', not an "
                  "audited ballot.",
                  "ไม่ใช่บัตรตรวจสอบ: รายการบนกระดานที่ลำดับ {seq} เป็นชนิด '{kind}' "
                  "ไม่ใช่บัตรตรวจสอบ"),
    "other_hash": ("DIFFERENT BALLOT: the audit entry at seq {seq} has tracker {found}, not "
                   "{tracker}.",
                   "บัตรไม่ตรงกัน: รายการตรวจสอบที่ลำดับ {seq} มีรหัสติดตามบัตร {found} "
                   "ไม่ใช่ {tracker}"),
    "no_ballot": ("NO BALLOT: board/ballots.jsonl has no ballot for seq {seq}.",
                  "ไม่มีบัตร: board/ballots.jsonl ไม่มีบัตรของลำดับ {seq}"),
    "ballot_hash": ("DIFFERENT BALLOT: the published ballot at seq {seq} does not hash to "
                    "tracker {tracker}.",
                    "บัตรไม่ตรงกัน: บัตรที่เผยแพร่ที่ลำดับ {seq} มีแฮชไม่ตรงกับรหัสติดตามบัตร {tracker}"),
    "not_open": ("DOES NOT OPEN: the published seed does not open the audited ballot at seq "
                 "{seq} ({reason}). No choice is shown. Report it to the Election Commission.",
                 "เปิดไม่ได้: ค่าสุ่มตั้งต้นที่เผยแพร่เปิดบัตรตรวจสอบที่ลำดับ {seq} ไม่ได้ ({reason}) "
                 "จึงไม่แสดงตัวเลือกใด โปรดแจ้งคณะกรรมการการเลือกตั้ง"),
    "incomplete": ("The record cannot be used to open the ballot: {error}.",
                   "ใช้บันทึกนี้เปิดบัตรไม่ได้: {error}"),
    "not_an_audit_code": ("NOT AN AUDIT CODE: give the code your voting device showed "
                          "(ssbvote-audit:1:<position>:<tracker>).",
                          "ไม่ใช่รหัสตรวจสอบบัตร: โปรดใส่รหัสที่อุปกรณ์ลงคะแนนของท่านแสดง "
                          "(ssbvote-audit:1:<ตำแหน่ง>:<รหัสติดตามบัตร>)"),
}

ITEM_LABELS: dict[str, tuple[str, str]] = {
    "file": ("file", "ไฟล์"),
    "line": ("line", "บรรทัด"),
    "seq": ("seq", "ลำดับ"),
    "contest": ("contest", "การเลือก"),
    "candidate": ("candidate", "ผู้สมัคร"),
    "trustee": ("trustee", "ผู้ถือกุญแจ"),
    "electorate": ("electorate", "กลุ่มผู้มีสิทธิ์"),
    "credential": ("credential", "ข้อมูลประจำตัว"),
    "official": ("official", "เจ้าหน้าที่"),
    "proof": ("proof", "หลักฐาน"),
}


from verifier import i18n_contests as _contests  # noqa: E402 - checks 37–40 (issue 21)
from verifier import i18n_observers as _observers  # noqa: E402 - checks 32–35 (issue 23)

for _module in (_observers, _contests):
    for _table, _more in ((CHECK_TITLES, _module.CHECK_TITLES), (MESSAGES, _module.MESSAGES),
                          (ITEM_LABELS, _module.ITEM_LABELS), (UI, _module.UI)):
        assert not set(_table) & set(_more), "a message code is defined twice"
        _table.update(_more)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "th" else pair[0]


def message(code: str, params: dict[str, Any], lang: str = "en") -> str:
    template = MESSAGES.get(code)
    if template is None:
        return f"{code} {params}"
    try:
        return _pick(template, lang).format(**params)
    except (KeyError, IndexError):
        return f"{_pick(template, lang)} {params}"


def ui(key: str, lang: str = "en", **params: Any) -> str:
    return _pick(UI[key], lang).format(**params)


def receipt_text(status: str, lang: str = "en", **params: Any) -> str:
    try:
        return _pick(RECEIPT[status], lang).format(**params)
    except (KeyError, IndexError):
        return f"{_pick(RECEIPT[status], lang)} {params}"


def mode_text(table: dict[str, tuple[str, str]], status: str, lang: str = "en",
              **params: Any) -> str:
    """A message of a voter mode's table (:data:`TRACKER`, :data:`AUDIT`)."""
    try:
        return _pick(table[status], lang).format(**params)
    except (KeyError, IndexError):
        return f"{_pick(table[status], lang)} {params}"


def check_title(name: str, lang: str = "en") -> str:
    return _pick(CHECK_TITLES.get(name, (name, name)), lang)


def item_text(item: dict[str, Any], lang: str = "en") -> str:
    parts = []
    for key in ITEM_LABELS:
        if key in item and item[key] is not None:
            parts.append(f"{_pick(ITEM_LABELS[key], lang)} {item[key]}")
    return ", ".join(parts)
