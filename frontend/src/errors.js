// One error type for untrusted input that fails (docs/protocol.md §1.3), mirroring
// crypto/errors.py: InvalidInput, and its subclass InvalidProof for a well-formed proof that
// does not verify.  The message names what failed.

export class InvalidInput extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvalidInput';
  }
}

export class InvalidProof extends InvalidInput {
  constructor(message) {
    super(message);
    this.name = 'InvalidProof';
  }
}
