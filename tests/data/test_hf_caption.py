"""The caption step through the real transformers backend on a tiny random Qwen2.5-VL (CPU)."""


from love_r1.backends import SamplingParams
from love_r1.data import CallStore, CaptionConfig, export_captions, run_captions
from love_r1.data._captions import read_captions
from love_r1.synth import write_needle_dataset
from tests.helpers.markers import requires_transformers

pytestmark = requires_transformers


def test_caption_step_runs_on_a_tiny_hf_model(tmp_path):
    from love_r1.backends.hf import HFBackend
    from tests.fixtures import tiny_qwen as tq

    write_needle_dataset(tmp_path, duration_seconds=12.0, num_videos=1, num_questions_per_video=1, width=128,
                         height=96, fps=4.0, seed=0)
    model, processor = tq.build_tiny("qwen2_5_vl")
    backend = HFBackend(model, processor, device="cpu")
    store = CallStore(tmp_path / "s.sqlite")
    config = CaptionConfig(segment_seconds=6.0, max_frames_per_segment=4, pixels_per_frame=56 * 56,
                           sampling=SamplingParams(max_new_tokens=4))
    digest, stats = run_captions(backend, ["videos/needle_0000.mp4"], video_root=tmp_path, store=store,
                                 config=config, workers=1, batch_size=2)
    assert stats.new_calls == 2 and not stats.failed_items
    assert stats.usage.prompt_tokens > 0 and 1 <= stats.usage.completion_tokens <= 8
    export_captions(store, digest, tmp_path / "captions")
    rows = read_captions(tmp_path / "captions", "videos/needle_0000.mp4")
    assert [(r["start_seconds"], r["end_seconds"]) for r in rows] == [(0.0, 6.0), (6.0, 12.0)]
