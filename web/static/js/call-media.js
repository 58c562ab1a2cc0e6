// What the provider's media profile means for the camera and for what is sent.
//
// POST room.video_setup_path answers {ice_servers, media_profile, ...}; media_profile is
// video/interface.py's MediaProfile: {name, max_video_kbps, max_width, max_height,
// max_framerate, audio_kbps}, upper bounds the call aims for. The camera is asked for that
// picture (getUserMedia / applyConstraints) and every sender is capped at those bit rates
// (RTCRtpSender.setParameters). A field that is missing or zero is left to the browser.

// Before the call is set up nothing is known: a modest picture every camera gives.
const BEFORE_SETUP = { width: { ideal: 640 }, height: { ideal: 480 } };

function given(value) {
  return typeof value === "number" && value > 0;
}

// Constraints for the camera: aim for the profile's picture, never above it.
export function videoConstraints(profile, { bounded = true } = {}) {
  if (!profile) return { ...BEFORE_SETUP };
  const constraints = {};
  const aim = (value) => (bounded ? { ideal: value, max: value } : { ideal: value });
  if (given(profile.max_width)) constraints.width = aim(profile.max_width);
  if (given(profile.max_height)) constraints.height = aim(profile.max_height);
  if (given(profile.max_framerate)) constraints.frameRate = aim(profile.max_framerate);
  return constraints;
}

// Bring a camera track already running to the profile. A camera that cannot honour the
// bounds keeps the closest picture it has.
export async function fitTrack(track, profile) {
  if (!track || !profile) return;
  try {
    await track.applyConstraints(videoConstraints(profile));
  } catch (error) {
    try {
      await track.applyConstraints(videoConstraints(profile, { bounded: false }));
    } catch (again) {
      // keep the picture as it is
    }
  }
}

// Cap what one connection sends: video at max_video_kbps (and max_framerate), audio at
// audio_kbps. Call it once the connection has a local description (encodings exist then).
export async function limitSenders(pc, profile) {
  if (!profile) return;
  for (const sender of pc.getSenders()) {
    const kind = sender.track && sender.track.kind;
    const kbps = kind === "video" ? profile.max_video_kbps : kind === "audio" ? profile.audio_kbps : 0;
    if (!given(kbps)) continue;
    const parameters = sender.getParameters();
    if (!parameters.encodings || parameters.encodings.length === 0) continue;
    for (const encoding of parameters.encodings) {
      encoding.maxBitrate = kbps * 1000;
      if (kind === "video" && given(profile.max_framerate)) encoding.maxFramerate = profile.max_framerate;
    }
    try {
      await sender.setParameters(parameters);
    } catch (error) {
      // A browser that refuses: the camera constraints still bound the picture.
    }
  }
}

export async function cameras() {
  try {
    return (await navigator.mediaDevices.enumerateDevices()).filter((device) => device.kind === "videoinput");
  } catch (error) {
    return [];
  }
}
