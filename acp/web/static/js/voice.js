// Talking to the session over /voice: the microphone (an AudioWorklet, resampled
// to 16 kHz PCM16) goes up, the agent's speech (PCM16) comes down and is played
// as it arrives; {"type": "clear"} (barge-in: the user spoke over the agent)
// stops playback at once. Transcript and state show in the voice panel.

const RATE_HZ = 16000;
const JITTER_S = 0.06; // playback starts this far ahead of now, so frames arriving late still join up

export class Voice {
  constructor({ button, panel, stateLabel, heard, said, noticeLabel, sessionId, announce }) {
    Object.assign(this, { button, panel, stateLabel, heard, said, noticeLabel, sessionId, announce });
    this.socket = null;
    this.context = null;
    this.stream = null;
    this.sources = new Set();
    this.playHead = 0;
    this.framesPlayed = 0;
    this.heardFinal = []; // what the server heard, one entry per utterance
    this.clears = 0;
    this.state = 'off';
    button.addEventListener('click', () => (this.socket ? this.stop() : this.start()));
  }

  awaitingApproval(sessionId) {
    return this.socket !== null && this.state === 'connecting' && this.callSession === sessionId;
  }

  get playing() {
    return this.sources.size;
  }

  setState(value) {
    this.state = value;
    this.stateLabel.textContent = value.replace('_', ' ');
    this.panel.dataset.state = value;
  }

  async start() {
    const sessionId = this.sessionId();
    if (!sessionId) return;
    this.callSession = sessionId;
    this.panel.hidden = false;
    this.setState('connecting');
    this.button.setAttribute('aria-pressed', 'true');
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      this.context = new AudioContext();
      await this.context.audioWorklet.addModule('/static/js/mic-worklet.js');
    } catch (err) {
      this.setState('off');
      this.noticeLabel.textContent = `Microphone unavailable: ${err.message}`;
      this.cleanup();
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/voice`, ['agentcore.voice']);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ sessionId, sampleRate: RATE_HZ, outputRate: RATE_HZ }));
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.message(JSON.parse(event.data));
      else this.play(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      if (event.reason) this.noticeLabel.textContent = event.reason;
      this.cleanup();
    };
  }

  startMicrophone() {
    const source = this.context.createMediaStreamSource(this.stream);
    const node = new AudioWorkletNode(this.context, 'pcm16-capture', { processorOptions: { targetRate: RATE_HZ } });
    const mute = this.context.createGain();
    mute.gain.value = 0; // the worklet must be pulled by the graph; nothing of the mic is heard
    node.port.onmessage = (event) => {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(event.data);
    };
    source.connect(node).connect(mute).connect(this.context.destination);
    this.node = node;
  }

  message(message) {
    switch (message.type) {
      case 'ready':
        this.setState('listening');
        this.startMicrophone();
        break;
      case 'state':
        this.setState(message.state);
        break;
      case 'transcript':
        (message.role === 'user' ? this.heard : this.said).textContent = message.text;
        if (message.final && message.role === 'user') {
          this.heardFinal.push(message.text);
          this.announce(`You said: ${message.text}`);
        }
        break;
      case 'clear':
        this.clears += 1;
        this.clear();
        break;
      case 'notice':
        this.noticeLabel.textContent = message.text;
        break;
      default:
        break;
    }
  }

  notification(kind, params) {
    // Another client's call on this session: show what it hears and says.
    if (this.socket) return;
    if (kind === 'transcript') {
      this.panel.hidden = false;
      (params.role === 'user' ? this.heard : this.said).textContent = params.text;
    } else if (kind === 'state') {
      this.panel.hidden = false;
      this.setState(params.state);
    }
  }

  play(buffer) {
    const samples = new Int16Array(buffer);
    if (!samples.length || !this.context) return;
    const audio = this.context.createBuffer(1, samples.length, RATE_HZ);
    const channel = audio.getChannelData(0);
    for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 0x8000;
    const source = this.context.createBufferSource();
    source.buffer = audio;
    source.connect(this.context.destination);
    const now = this.context.currentTime;
    this.playHead = Math.max(this.playHead, now + JITTER_S);
    source.start(this.playHead);
    this.playHead += audio.duration;
    this.sources.add(source);
    this.framesPlayed += 1;
    source.onended = () => this.sources.delete(source);
  }

  clear() {
    this.lastClear = { playing: this.sources.size, at: performance.now() }; // what barge-in cut off
    for (const source of this.sources) {
      try { source.stop(); } catch { /* not started yet */ }
    }
    this.sources.clear();
    this.playHead = 0;
  }

  stop() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: 'end' }));
    const socket = this.socket;
    this.cleanup();
    if (socket) socket.close(1000);
  }

  cleanup() {
    this.clear();
    this.socket = null;
    if (this.node) this.node.disconnect();
    this.node = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    if (this.context) this.context.close();
    this.context = null;
    this.button.setAttribute('aria-pressed', 'false');
    this.setState('off');
  }
}
