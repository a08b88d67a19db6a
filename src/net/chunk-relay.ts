/**
 * Where a connection's received bytes go when they are read into a reused buffer: `chunk` is
 * valid only during the call. Bytes delivered before a reader is attached are copied and
 * replayed to it. Dialled TCP sockets (the peer room, as `ReadRelay`) and MseStream both use it.
 */
export interface ChunkSource {
  attach(reader: (chunk: Buffer) => void): void;
}

export class ChunkRelay implements ChunkSource {
  #reader: ((chunk: Buffer) => void) | undefined;
  #early: Buffer[] = [];

  deliver(chunk: Buffer): void {
    if (this.#reader) this.#reader(chunk);
    else this.#early.push(Buffer.from(chunk));
  }

  /**
   * Early bytes are replayed in a microtask, not during this call: an owner attaching in its
   * constructor gets them once its listeners are in place. Nothing is delivered in between (no
   * I/O runs before microtasks), and what is would queue behind them.
   */
  attach(reader: (chunk: Buffer) => void): void {
    if (this.#early.length === 0) {
      this.#reader = reader;
      return;
    }
    queueMicrotask(() => {
      const early = this.#early;
      this.#early = [];
      for (const chunk of early) reader(chunk);
      this.#reader = reader;
    });
  }
}
