// The web page's script: it speaks the same HTTP API as any client. mp3 streams from /v1/audio/speech into a
// MediaSource (the audio starts with the first sentence); other formats, or browsers without MediaSource, use
// POST /api/tts/ and play the finished file. Errors are shown as the API words them.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const form = $("synth"), player = $("player"), statusEl = $("status"), errorEl = $("error");
  const stats = $("stats"), download = $("download"), wordsEl = $("words"), history = $("history");
  const signedIn = history.dataset.signedIn === "1";
  const STORE = "tts-history";
  let words = [];

  const csrf = () => (document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [])[1]
    || form.querySelector("[name=csrfmiddlewaretoken]").value;
  const headers = () => ({"Content-Type": "application/json", "X-CSRFToken": csrf()});
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const once = (target, name) => new Promise((resolve) => target.addEventListener(name, resolve, {once: true}));

  $("speed").addEventListener("input", (e) => { $("speed-value").textContent = Number(e.target.value).toFixed(1); });

  function showError(message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
    statusEl.textContent = "";
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      return (body.error && body.error.message) || `${response.status} ${response.statusText}`;
    } catch (e) {
      return `${response.status} ${response.statusText}`;
    }
  }

  function options() {
    const voice = $("voice");
    const o = {text: $("text").value, format: $("format").value, speed: Number($("speed").value), voice: voice.value,
               vocoder: voice.selectedOptions[0].dataset.vocoder || undefined};
    for (const name of ["sigma", "denoiser_strength"]) {
      if ($(name)) o[name] = Number($(name).value);
    }
    return o;
  }

  function play() {
    const started = player.play();
    if (started) started.catch(() => {}); // a browser may refuse autoplay: the controls are there
  }

  async function record(uuid) {
    const response = await fetch(`/api/tts/${uuid}/`, {credentials: "same-origin"});
    if (!response.ok) throw new Error(await errorMessage(response));
    return response.json();
  }

  const canStream = () => "MediaSource" in window && MediaSource.isTypeSupported("audio/mpeg");

  async function streamed(o) {
    const body = {model: "tacotron2", input: o.text, voice: o.voice, response_format: "mp3", speed: o.speed,
                  timestamps: true};
    if (o.sigma !== undefined) Object.assign(body, {sigma: o.sigma, denoiser_strength: o.denoiser_strength});
    const response = await fetch("/v1/audio/speech", {method: "POST", headers: headers(), credentials: "same-origin",
                                                      body: JSON.stringify(body)});
    if (!response.ok) throw new Error(await errorMessage(response));
    const uuid = response.headers.get("X-TTS-Sound");
    const source = new MediaSource();
    player.src = URL.createObjectURL(source);
    await once(source, "sourceopen");
    const buffer = source.addSourceBuffer("audio/mpeg");
    const reader = response.body.getReader();
    let first = true;
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      if (buffer.updating) await once(buffer, "updateend");
      buffer.appendBuffer(value);
      if (first) {
        first = false;
        statusEl.textContent = "Playing while the rest is made…";
        play();
      }
    }
    if (buffer.updating) await once(buffer, "updateend");
    source.endOfStream();
    return record(uuid);
  }

  async function whole(o) {
    const body = {text: o.text, format: o.format, speed: o.speed, timestamps: true};
    if (o.vocoder) body.vocoder = o.vocoder;
    if (o.sigma !== undefined) Object.assign(body, {sigma: o.sigma, denoiser_strength: o.denoiser_strength});
    const response = await fetch("/api/tts/", {method: "POST", headers: headers(), credentials: "same-origin",
                                               body: JSON.stringify(body)});
    if (!response.ok) throw new Error(await errorMessage(response));
    let rec = await response.json();
    while (rec.status === "queued" || rec.status === "running") {
      await sleep(300);
      rec = await record(rec.uuid);
    }
    if (rec.status !== "done") throw new Error(rec.error ? rec.error.message : "the synthesis failed");
    player.src = rec.audio_url;
    play();
    return rec;
  }

  function show(rec) {
    const rtf = rec.inference_time > 0 ? rec.duration / rec.inference_time : 0;
    stats.textContent = `${rec.duration.toFixed(2)} s of audio in ${rec.inference_time.toFixed(2)} s ` +
      `(${rtf.toFixed(1)}× real time)`;
    download.href = rec.audio_url;
    download.setAttribute("download", `${rec.uuid}.${rec.format}`);
    download.hidden = false;
    words = rec.words || [];
    wordsEl.replaceChildren(...words.map((w) => {
      const span = document.createElement("span");
      span.textContent = `${w.word} `;
      return span;
    }));
    addToHistory({uuid: rec.uuid, text: rec.text_content, audio_url: rec.audio_url});
  }

  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    const spans = wordsEl.children;
    words.forEach((w, i) => spans[i] && spans[i].classList.toggle("current", w.start <= t && t < w.end));
  });

  function item({uuid, text, audio_url}) {
    const li = document.createElement("li");
    li.dataset.uuid = uuid;
    const span = document.createElement("span");
    span.className = "text";
    span.textContent = text.length > 80 ? `${text.slice(0, 79)}…` : text;
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = audio_url;
    li.append(span, audio);
    if (signedIn) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "delete";
      button.dataset.uuid = uuid;
      button.textContent = "Delete";
      li.append(button);
    }
    return li;
  }

  function addToHistory(entry) {
    const empty = history.querySelector(".empty");
    if (empty) empty.remove();
    history.prepend(item(entry));
    if (!signedIn) {
      const saved = JSON.parse(sessionStorage.getItem(STORE) || "[]");
      sessionStorage.setItem(STORE, JSON.stringify([entry, ...saved].slice(0, 20)));
    }
  }

  if (!signedIn) {
    const saved = JSON.parse(sessionStorage.getItem(STORE) || "[]");
    if (saved.length) history.replaceChildren(...saved.map(item));
  }

  history.addEventListener("click", async (event) => {
    const button = event.target.closest("button.delete");
    if (!button) return;
    errorEl.hidden = true;
    const response = await fetch(`/api/tts/${button.dataset.uuid}/`, {method: "DELETE", headers: headers(),
                                                                      credentials: "same-origin"});
    if (response.status === 204) button.closest("li").remove();
    else showError(await errorMessage(response));
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorEl.hidden = true;
    const o = options();
    $("speak").disabled = true;
    statusEl.textContent = "Synthesizing…";
    try {
      const rec = o.format === "mp3" && canStream() ? await streamed(o) : await whole(o);
      show(rec);
      statusEl.textContent = "Done.";
    } catch (err) {
      showError(err.message);
    } finally {
      $("speak").disabled = false;
    }
  });
})();
