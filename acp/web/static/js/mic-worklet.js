// AudioWorklet: the microphone as 16-bit little-endian mono PCM at the rate the
// server asked for (linear resampling from the context's rate), posted to the
// page in frames of FRAME_MS.

const FRAME_MS = 20;

class Pcm16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.targetRate = (options.processorOptions && options.processorOptions.targetRate) || 16000;
    this.step = sampleRate / this.targetRate; // input samples per output sample
    this.position = 0; // fractional read position into the pending input
    this.carry = new Float32Array(0); // input not yet consumed
    this.frame = new Int16Array(Math.round((this.targetRate * FRAME_MS) / 1000));
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    const input = new Float32Array(this.carry.length + channel.length);
    input.set(this.carry);
    input.set(channel, this.carry.length);
    let pos = this.position;
    while (pos + 1 < input.length) {
      const i = Math.floor(pos);
      const frac = pos - i;
      const sample = input[i] * (1 - frac) + input[i + 1] * frac;
      const clipped = Math.max(-1, Math.min(1, sample));
      this.frame[this.filled++] = clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
      if (this.filled === this.frame.length) {
        const out = this.frame.slice();
        this.port.postMessage(out.buffer, [out.buffer]);
        this.filled = 0;
      }
      pos += this.step;
    }
    const consumed = Math.floor(pos);
    this.carry = input.slice(consumed);
    this.position = pos - consumed;
    return true;
  }
}

registerProcessor('pcm16-capture', Pcm16Capture);
