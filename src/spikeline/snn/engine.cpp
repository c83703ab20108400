#include "spikeline/snn/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <variant>

#include "spikeline/core/error.hpp"
#include "spikeline/core/parallel.hpp"
#include "spikeline/snn/kernels.hpp"
#include "spikeline/snn/lif.hpp"

namespace spikeline::snn {

namespace {

using kernels::Csr;
enum class LossKind { CrossEntropy, MSE };

// Where a buffer's gradient is needed: nowhere (network input), everywhere, or only where the
// surrogate of one of the listed LIF layers is non-zero (the buffer carries their spikes).
struct GradNeed {
  bool dense = false;
  std::vector<int> lifs;
  bool none() const { return !dense && lifs.empty(); }
};

struct LinearOp {
  const Linear* layer;
  int in, out;
  int grad_w, grad_b;  // parameter indices (-1: none)
};
struct LifOp {
  const LIF* layer;
  LoweredLif lowered;
  int in, out;
  int grad_w_rec;
  std::string path;
};
struct AddOp {
  int a, b, out;
};
struct Op {
  enum Kind { kLinear, kLif, kAdd } kind;
  int index;
};

struct Workspace {
  int T = 0, B = 0;
  std::vector<std::vector<float>> act, grad;  // per buffer, [T][B][width]
  std::vector<Csr> events;                    // per buffer: its non-zeros, when a Linear reads it
  std::vector<std::vector<float>> v_pre;      // per LIF op
  std::vector<kernels::BitMask> window;       // per LIF op: where its surrogate is non-zero
  std::vector<LifState> lif_state;            // per LIF op
  std::vector<std::vector<float>> initial_spikes;
  std::vector<std::vector<float>> rec_vmem, rec_isyn;
  std::vector<float> gv, ga;
  Csr by_column;
  kernels::BitMask mask;              // union of surrogate windows
  std::vector<std::int32_t> mask_row;  // one mask row as indices
  std::vector<float> wt;              // a Linear's weights transposed
  std::vector<std::uint8_t> grad_fresh;  // per buffer: not yet written in this backward sweep
  std::vector<float> param_grad;  // flat, all parameters
  EngineStats stats;
};

}  // namespace

struct Engine::Impl {
  const Network* net;
  std::vector<Op> ops;
  std::vector<LinearOp> linears;
  std::vector<LifOp> lifs;
  std::vector<AddOp> adds;
  std::vector<int> width;  // per buffer
  std::vector<GradNeed> need;
  int output_buffer = 0;
  std::vector<std::size_t> param_offset, param_size;  // flat layout of gradients
  std::size_t param_total = 0;
  std::vector<Workspace> workspaces;
  // Carried state (batch element 0 of the previous call), per LIF op.
  bool has_state = false;
  std::vector<std::vector<float>> state_v, state_i, state_s;

  int new_buffer(int w) {
    width.push_back(w);
    need.emplace_back();
    return static_cast<int>(width.size()) - 1;
  }
  int add_param(std::size_t size) {
    param_offset.push_back(param_total);
    param_size.push_back(size);
    param_total += size;
    return static_cast<int>(param_size.size()) - 1;
  }

  int lower(const std::vector<Layer>& layers, int cur, const std::string& prefix) {
    for (const auto& layer : layers) {
      const std::string path = prefix.empty() ? layer.name : prefix + "." + layer.name;
      if (const auto* lin = std::get_if<Linear>(&layer.op)) {
        LinearOp op{lin, cur, new_buffer(lin->n_out), -1, -1};
        op.grad_w = add_param(lin->weight.size());
        if (!lin->bias.empty()) op.grad_b = add_param(lin->bias.size());
        need[op.out].dense = true;
        linears.push_back(op);
        ops.push_back({Op::kLinear, static_cast<int>(linears.size()) - 1});
        cur = op.out;
      } else if (const auto* lif = std::get_if<LIF>(&layer.op)) {
        LifOp op{lif, lower_lif(*lif), cur, new_buffer(lif->n), -1, path};
        if (lif->has_rec) op.grad_w_rec = add_param(lif->w_rec.size());
        lifs.push_back(std::move(op));
        need[lifs.back().out].lifs.push_back(static_cast<int>(lifs.size()) - 1);
        ops.push_back({Op::kLif, static_cast<int>(lifs.size()) - 1});
        cur = lifs.back().out;
      } else {
        const auto& res = std::get<Residual>(layer.op);
        const int skip = cur;
        const int body = lower(res.body, cur, path);
        AddOp op{body, skip, new_buffer(width[body])};
        GradNeed merged;
        merged.dense = need[body].dense || need[skip].dense;
        merged.lifs = need[body].lifs;
        merged.lifs.insert(merged.lifs.end(), need[skip].lifs.begin(), need[skip].lifs.end());
        need[op.out] = merged;
        adds.push_back(op);
        ops.push_back({Op::kAdd, static_cast<int>(adds.size()) - 1});
        cur = op.out;
      }
    }
    return cur;
  }

  void build(const Network& network) {
    net = &network;
    ops.clear();
    linears.clear();
    lifs.clear();
    adds.clear();
    width.clear();
    need.clear();
    param_offset.clear();
    param_size.clear();
    param_total = 0;
    network.validate();
    const int input = new_buffer(network.n_in());
    output_buffer = lower(network.layers, input, "");
    state_v.assign(lifs.size(), {});
    state_i.assign(lifs.size(), {});
    state_s.assign(lifs.size(), {});
    has_state = false;
  }

  void prepare(Workspace& ws, int T, int B, bool train, bool record) const {
    const bool resize = ws.T != T || ws.B != B || ws.act.size() != width.size();
    ws.T = T;
    ws.B = B;
    const std::size_t rows = static_cast<std::size_t>(T) * B;
    if (resize) {
      ws.act.resize(width.size());
      ws.events.resize(width.size());
      for (std::size_t k = 0; k < width.size(); ++k) ws.act[k].assign(rows * width[k], 0.0f);
      ws.v_pre.resize(lifs.size());
      ws.window.resize(lifs.size());
      ws.lif_state.resize(lifs.size());
      ws.initial_spikes.resize(lifs.size());
      for (std::size_t k = 0; k < lifs.size(); ++k) ws.v_pre[k].assign(rows * lifs[k].lowered.n, 0);
    }
    if (train && ws.grad.size() != width.size()) ws.grad.resize(width.size());
    if (train)
      for (std::size_t k = 0; k < width.size(); ++k) ws.grad[k].resize(rows * width[k]);
    if (record) {
      ws.rec_vmem.resize(lifs.size());
      ws.rec_isyn.resize(lifs.size());
      for (std::size_t k = 0; k < lifs.size(); ++k) {
        ws.rec_vmem[k].resize(rows * lifs[k].lowered.n);
        ws.rec_isyn[k].resize(rows * lifs[k].lowered.n);
      }
    }
  }

  // Forward of batch elements [b0, b0 + B) of x ([batch][T][n_in]).
  void forward_chunk(Workspace& ws, const FloatArray& x, int b0, int B, bool train, bool record,
                     std::uint64_t noise_seed) const {
    const int T = static_cast<int>(x.dim(1));
    const int C = static_cast<int>(x.dim(2));
    float* in = ws.act[0].data();
    for (int t = 0; t < T; ++t)
      for (int b = 0; b < B; ++b)
        std::memcpy(in + (static_cast<std::size_t>(t) * B + b) * C,
                    x.ptr() + (static_cast<std::size_t>(b0 + b) * T + t) * C, sizeof(float) * C);
    Rng noise(noise_seed ^ (0x9E3779B97F4A7C15ULL * (b0 + 1)));
    const int rows = T * B;
    for (const Op& op : ops) {
      if (op.kind == Op::kLinear) {
        const LinearOp& l = linears[op.index];
        Csr& ev = ws.events[l.in];
        kernels::to_csr(ws.act[l.in].data(), rows, width[l.in], ev);
        ws.stats.input_events += static_cast<double>(ev.nnz());
        ws.stats.input_entries += static_cast<double>(rows) * width[l.in];
        kernels::events_matmul(ev, l.layer->weight.data(), l.layer->n_out,
                               l.layer->bias.empty() ? nullptr : l.layer->bias.data(),
                               ws.act[l.out].data());
      } else if (op.kind == Op::kLif) {
        const LifOp& l = lifs[op.index];
        const int n = l.lowered.n;
        start_lif(ws, op.index, B, train);
        LifRecords rec;
        if (record) {
          rec.vmem = ws.rec_vmem[op.index].data();
          rec.isyn = ws.rec_isyn[op.index].data();
        }
        kernels::BitMask* window = train ? &ws.window[op.index] : nullptr;
        lif_forward(l.lowered, ws.act[l.in].data(), T, B, ws.lif_state[op.index],
                    ws.act[l.out].data(), ws.v_pre[op.index].data(), window, rec, &noise);
        if (train) {
          ws.stats.window_entries += static_cast<double>(window->count());
          ws.stats.lif_entries += static_cast<double>(rows) * n;
        }
      } else {
        const AddOp& a = adds[op.index];
        kernels::add(ws.act[a.a].data(), ws.act[a.b].data(), ws.act[a.out].data(),
                     static_cast<std::size_t>(rows) * width[a.out]);
      }
    }
  }

  // Initial state of LIF op k for a micro-batch of B elements.
  void start_lif(Workspace& ws, int k, int B, bool train) const {
    const int n = lifs[k].lowered.n;
    LifState& st = ws.lif_state[k];
    st.resize(B, n);
    if (!has_state) return;
    for (int b = 0; b < B; ++b) {
      std::memcpy(st.vmem.data() + static_cast<std::size_t>(b) * n, state_v[k].data(), sizeof(float) * n);
      std::memcpy(st.isyn.data() + static_cast<std::size_t>(b) * n, state_i[k].data(), sizeof(float) * n);
      std::memcpy(st.spikes.data() + static_cast<std::size_t>(b) * n, state_s[k].data(), sizeof(float) * n);
    }
    if (train) ws.initial_spikes[k] = st.spikes;
  }

  // Backward of the chunk last run forward in `ws`; the output gradient is already in
  // ws.grad[output_buffer]. Parameter gradients accumulate into ws.param_grad.
  //
  // No gradient buffer is zeroed up front: the first writer of a buffer in the reverse sweep
  // overwrites it (LIF scans, dense input gradients and residual copies write every entry) and
  // later writers add. Only a masked input gradient, which writes some entries, zeroes its target
  // first when it is the first writer.
  void backward_chunk(Workspace& ws) const {
    const int T = ws.T, B = ws.B, rows = T * B;
    std::vector<std::uint8_t>& fresh = ws.grad_fresh;
    fresh.assign(width.size(), 1);
    fresh[output_buffer] = 0;
    auto buffer_size = [&](int k) { return static_cast<std::size_t>(rows) * width[k]; };
    // Before a kernel that can only add to buffer k.
    auto zero_if_fresh = [&](int k) {
      if (fresh[k]) std::fill_n(ws.grad[k].data(), buffer_size(k), 0.0f);
      fresh[k] = 0;
    };
    // Before a kernel that writes all of buffer k: true when it may overwrite.
    auto take_fresh = [&](int k) {
      const bool f = fresh[k];
      fresh[k] = 0;
      return f != 0;
    };
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      const Op& op = *it;
      if (op.kind == Op::kAdd) {
        const AddOp& a = adds[op.index];
        zero_if_fresh(a.out);  // every buffer read has been written; this only guards
        // The sum's gradient is not read after this op (the add produced the buffer), so the first
        // operand seeing its first write takes over the storage (a swap, no copy); the other
        // operand then reads it from there (when both operands are one buffer, it adds it to itself).
        int src = a.out;
        for (int k : {a.a, a.b}) {
          if (need[k].none()) continue;
          if (src == a.out && take_fresh(k)) {
            std::swap(ws.grad[k], ws.grad[a.out]);
            src = k;
          } else if (take_fresh(k)) {
            std::copy_n(ws.grad[src].data(), buffer_size(a.out), ws.grad[k].data());
          } else {
            kernels::accumulate(ws.grad[src].data(), ws.grad[k].data(), buffer_size(a.out));
          }
        }
      } else if (op.kind == Op::kLif) {
        const LifOp& l = lifs[op.index];
        zero_if_fresh(l.out);
        float* gw = l.grad_w_rec >= 0 ? ws.param_grad.data() + param_offset[l.grad_w_rec] : nullptr;
        const float* init = has_state && l.lowered.w_rec ? ws.initial_spikes[op.index].data() : nullptr;
        const bool overwrite = take_fresh(l.in);
        lif_backward(l.lowered, T, B, ws.v_pre[op.index].data(), ws.act[l.out].data(), init,
                     ws.window[op.index], ws.grad[l.out].data(), ws.grad[l.in].data(), overwrite,
                     gw, ws.gv, ws.ga);
      } else {
        linear_backward(ws, linears[op.index], zero_if_fresh, take_fresh);
      }
    }
  }

  // Masks denser than this take the dense input gradient (measured on the reference workload:
  // the blocked GEMM runs ~2-3x more multiply-adds per second than the masked dot products).
  static constexpr double kDenseMaskDensity = 0.4;

  template <class ZeroIfFresh, class TakeFresh>
  void linear_backward(Workspace& ws, const LinearOp& l, ZeroIfFresh&& zero_if_fresh,
                       TakeFresh&& take_fresh) const {
    const int rows = ws.T * ws.B;
    const int n_in = l.layer->n_in, n_out = l.layer->n_out;
    zero_if_fresh(l.out);
    const float* dy = ws.grad[l.out].data();
    kernels::transpose_events(ws.events[l.in], n_in, ws.by_column);
    kernels::events_weight_grad(ws.by_column, dy, n_out,
                                ws.param_grad.data() + param_offset[l.grad_w]);
    if (l.grad_b >= 0) {
      float* gb = ws.param_grad.data() + param_offset[l.grad_b];
      for (int r = 0; r < rows; ++r) kernels::accumulate(dy + static_cast<std::size_t>(r) * n_out, gb, n_out);
    }
    const GradNeed& nd = need[l.in];
    if (nd.none()) return;
    float* dx = ws.grad[l.in].data();
    const float* w = l.layer->weight.data();
    // With fewer outputs than one vector, dot products over the outputs are mostly scalar tails:
    // the transposed dense product, vectorised over the inputs, is cheaper even for sparse masks.
    bool dense = nd.dense || n_out < simd_lanes();
    const kernels::BitMask* mask = nullptr;
    if (!dense) {
      mask = &ws.window[nd.lifs[0]];
      if (nd.lifs.size() > 1) {
        kernels::bitmask_or(*mask, ws.window[nd.lifs[1]], ws.mask);
        for (std::size_t k = 2; k < nd.lifs.size(); ++k)
          kernels::bitmask_or(ws.mask, ws.window[nd.lifs[k]], ws.mask);
        mask = &ws.mask;
      }
      dense = static_cast<double>(mask->count()) > kDenseMaskDensity * rows * n_in;
    }
    if (dense) {
      kernels::transpose_weights(w, n_in, n_out, ws.wt);
      kernels::dense_input_grad(dy, rows, ws.wt.data(), n_in, n_out, dx, take_fresh(l.in));
    } else {
      zero_if_fresh(l.in);
      kernels::masked_input_grad(*mask, dy, w, n_in, n_out, dx, ws.mask_row);
    }
  }

  static int simd_lanes() { return kernels::simd::kLanes; }

  // Copies chunk outputs/records into batch-major arrays.
  void scatter(const std::vector<float>& src, int T, int B, int b0, int n, FloatArray& dst) const {
    for (int t = 0; t < T; ++t)
      for (int b = 0; b < B; ++b)
        std::memcpy(dst.ptr() + (static_cast<std::size_t>(b0 + b) * T + t) * n,
                    src.data() + (static_cast<std::size_t>(t) * B + b) * n, sizeof(float) * n);
  }

  void capture_state(const Workspace& ws, std::vector<std::vector<float>>& v,
                     std::vector<std::vector<float>>& i, std::vector<std::vector<float>>& s) const {
    for (std::size_t k = 0; k < lifs.size(); ++k) {
      const int n = lifs[k].lowered.n;
      const auto& st = ws.lif_state[k];
      v[k].assign(st.vmem.begin(), st.vmem.begin() + n);
      i[k].assign(st.isyn.begin(), st.isyn.begin() + n);
      s[k].assign(st.spikes.begin(), st.spikes.begin() + n);
    }
  }

  LossResult train_step(const EngineOptions& options, EngineStats& stats,
                               const FloatArray& x, LossKind kind, std::span<const int> labels,
                               const FloatArray* target, std::vector<std::vector<float>>& grads) {
    const int batch = static_cast<int>(x.dim(0)), T = static_cast<int>(x.dim(1));
    const int mb = std::min(options.micro_batch, batch);
    const int chunks = (batch + mb - 1) / mb;
    const int workers = std::min(options.threads, chunks);
    workspaces.resize(std::max<std::size_t>(workspaces.size(), workers));
    const int n_out = width[output_buffer];
    LossResult result;
    result.logits = FloatArray(Shape{static_cast<std::size_t>(batch), static_cast<std::size_t>(n_out)});
    std::vector<double> chunk_loss(chunks, 0.0);
    for (int w = 0; w < workers; ++w) workspaces[w].param_grad.assign(param_total, 0.0f);
    std::vector<std::vector<float>> nv(lifs.size()), ni(lifs.size()), ns(lifs.size());
    for (auto& w : workspaces) w.stats = {};
    const double inv_batch = 1.0 / batch;
    const double inv_count = 1.0 / (static_cast<double>(batch) * T * n_out);
    parallel_for(chunks, workers, [&](std::size_t c, int worker) {
      Workspace& ws = workspaces[worker];
      const int b0 = static_cast<int>(c) * mb, B = std::min(mb, batch - b0);
      prepare(ws, T, B, true, false);
      forward_chunk(ws, x, b0, B, true, false, options.noise_seed);
      if (c == 0) capture_state(ws, nv, ni, ns);
      const float* out = ws.act[output_buffer].data();
      float* g = ws.grad[output_buffer].data();
      double loss = 0.0;
      for (int b = 0; b < B; ++b) {
        float* logit = result.logits.ptr() + static_cast<std::size_t>(b0 + b) * n_out;
        for (int t = 0; t < T; ++t)
          for (int j = 0; j < n_out; ++j)
            logit[j] += out[(static_cast<std::size_t>(t) * B + b) * n_out + j];
      }
      if (kind == LossKind::CrossEntropy) {
        std::vector<double> gl(n_out);
        for (int b = 0; b < B; ++b) {
          const float* logit = result.logits.ptr() + static_cast<std::size_t>(b0 + b) * n_out;
          const double m = *std::max_element(logit, logit + n_out);
          double z = 0.0;
          for (int j = 0; j < n_out; ++j) z += std::exp(logit[j] - m);
          const int y = labels[b0 + b];
          loss += (m + std::log(z)) - logit[y];
          for (int j = 0; j < n_out; ++j)
            gl[j] = (std::exp(logit[j] - m) / z - (j == y ? 1.0 : 0.0)) * inv_batch;
          for (int t = 0; t < T; ++t)
            for (int j = 0; j < n_out; ++j)
              g[(static_cast<std::size_t>(t) * B + b) * n_out + j] = static_cast<float>(gl[j]);
        }
      } else {
        for (int t = 0; t < T; ++t)
          for (int b = 0; b < B; ++b)
            for (int j = 0; j < n_out; ++j) {
              const std::size_t r = (static_cast<std::size_t>(t) * B + b) * n_out + j;
              const double d = out[r] - target->ptr()[(static_cast<std::size_t>(b0 + b) * T + t) * n_out + j];
              loss += d * d;
              g[r] = static_cast<float>(2.0 * d * inv_count);
            }
      }
      chunk_loss[c] = loss;
      backward_chunk(ws);
    });
    // Each worker summed the gradients of its micro-batches (a static assignment); summing the
    // workers in order makes a run reproducible for a given thread count.
    std::vector<float>& total = workspaces[0].param_grad;
    for (int w = 1; w < workers; ++w)
      kernels::accumulate(workspaces[w].param_grad.data(), total.data(), total.size());
    grads.resize(param_size.size());
    for (std::size_t p = 0; p < param_size.size(); ++p)
      grads[p].assign(total.begin() + param_offset[p],
                      total.begin() + param_offset[p] + param_size[p]);
    double loss = 0.0;
    for (double l : chunk_loss) loss += l;
    result.loss = kind == LossKind::CrossEntropy ? loss * inv_batch : loss * inv_count;
    stats = {};
    for (int w = 0; w < workers; ++w) {
      const auto& s = workspaces[w].stats;
      stats.input_events += s.input_events;
      stats.input_entries += s.input_entries;
      stats.window_entries += s.window_entries;
      stats.lif_entries += s.lif_entries;
    }
    if (options.carry_state) {
      state_v = std::move(nv);
      state_i = std::move(ni);
      state_s = std::move(ns);
      has_state = true;
    }
    return result;
  }

};

Engine::Engine(const Network& net, EngineOptions options)
    : impl_(std::make_unique<Impl>()), options_(options) {
  if (options_.micro_batch < 1) throw InputError("engine", "micro_batch must be >= 1");
  if (options_.threads < 1) options_.threads = 1;
  impl_->build(net);
}

Engine::~Engine() = default;

void Engine::refresh() { impl_->build(*impl_->net); }

void Engine::reset_state() { impl_->has_state = false; }

std::vector<NamedArray> Engine::state() const {
  std::vector<NamedArray> out;
  if (!impl_->has_state) return out;
  for (std::size_t k = 0; k < impl_->lifs.size(); ++k) {
    const auto& path = impl_->lifs[k].path;
    const Shape s{impl_->state_v[k].size()};
    out.push_back({path + ".vmem", FloatArray(s, impl_->state_v[k])});
    out.push_back({path + ".isyn", FloatArray(s, impl_->state_i[k])});
    out.push_back({path + ".spikes", FloatArray(s, impl_->state_s[k])});
  }
  return out;
}

namespace {
void check_input(const FloatArray& x, int n_in) {
  if (x.ndim() != 3)
    throw InputError("input", "expected a [batch, time, channels] array, got shape " +
                                  shape_to_string(x.shape));
  if (static_cast<int>(x.dim(2)) != n_in)
    throw InputError("input", "expected " + std::to_string(n_in) + " channels (the network's input "
                                  "size), got shape " + shape_to_string(x.shape));
  if (x.dim(0) == 0 || x.dim(1) == 0)
    throw InputError("input", "empty batch or time axis: shape " + shape_to_string(x.shape));
}
}  // namespace

FloatArray Engine::forward(const FloatArray& x, std::vector<NamedArray>* records) {
  Impl& im = *impl_;
  check_input(x, im.net->n_in());
  const int batch = static_cast<int>(x.dim(0)), T = static_cast<int>(x.dim(1));
  const int mb = std::min(options_.micro_batch, batch);
  const int chunks = (batch + mb - 1) / mb;
  const int workers = std::min(options_.threads, chunks);
  im.workspaces.resize(std::max<std::size_t>(im.workspaces.size(), workers));
  const int n_out = im.width[im.output_buffer];
  FloatArray out(Shape{static_cast<std::size_t>(batch), static_cast<std::size_t>(T),
                       static_cast<std::size_t>(n_out)});
  std::vector<NamedArray> recs;
  const bool record = records != nullptr;
  if (record)
    for (const auto& l : im.lifs)
      for (const char* what : {".vmem", ".isyn", ".spikes"})
        recs.push_back({l.path + what, FloatArray(Shape{static_cast<std::size_t>(batch),
                                                        static_cast<std::size_t>(T),
                                                        static_cast<std::size_t>(l.lowered.n)})});
  std::vector<std::vector<float>> nv(im.lifs.size()), ni(im.lifs.size()), ns(im.lifs.size());
  for (auto& w : im.workspaces) w.stats = {};
  parallel_for(chunks, workers, [&](std::size_t c, int worker) {
    Workspace& ws = im.workspaces[worker];
    const int b0 = static_cast<int>(c) * mb, B = std::min(mb, batch - b0);
    im.prepare(ws, T, B, false, record);
    im.forward_chunk(ws, x, b0, B, false, record, options_.noise_seed);
    im.scatter(ws.act[im.output_buffer], T, B, b0, n_out, out);
    if (record)
      for (std::size_t k = 0; k < im.lifs.size(); ++k) {
        const int n = im.lifs[k].lowered.n;
        im.scatter(ws.rec_vmem[k], T, B, b0, n, recs[3 * k].values);
        im.scatter(ws.rec_isyn[k], T, B, b0, n, recs[3 * k + 1].values);
        im.scatter(ws.act[im.lifs[k].out], T, B, b0, n, recs[3 * k + 2].values);
      }
    if (c == 0) im.capture_state(ws, nv, ni, ns);
  });
  stats_ = {};
  for (int w = 0; w < workers; ++w) {
    const auto& s = im.workspaces[w].stats;
    stats_.input_events += s.input_events;
    stats_.input_entries += s.input_entries;
  }
  if (options_.carry_state) {
    im.state_v = std::move(nv);
    im.state_i = std::move(ni);
    im.state_s = std::move(ns);
    im.has_state = true;
  }
  if (record)
    for (auto& r : recs) records->push_back(std::move(r));
  return out;
}

LossResult Engine::loss_and_grad_ce(const FloatArray& x, std::span<const int> labels,
                                    std::vector<std::vector<float>>& grads) {
  check_input(x, impl_->net->n_in());
  if (labels.size() != x.dim(0))
    throw InputError("labels", "expected " + std::to_string(x.dim(0)) + " labels, got " +
                                   std::to_string(labels.size()));
  const int n_out = impl_->width[impl_->output_buffer];
  for (std::size_t b = 0; b < labels.size(); ++b)
    if (labels[b] < 0 || labels[b] >= n_out)
      throw InputError("labels", "label " + std::to_string(labels[b]) + " at index " +
                                     std::to_string(b) + " is outside [0, " +
                                     std::to_string(n_out) + ")");
  return impl_->train_step(options_, stats_, x, LossKind::CrossEntropy, labels, nullptr, grads);
}

LossResult Engine::loss_and_grad_mse(const FloatArray& x, const FloatArray& target,
                                     std::vector<std::vector<float>>& grads) {
  check_input(x, impl_->net->n_in());
  const Shape expect{x.dim(0), x.dim(1), static_cast<std::size_t>(impl_->width[impl_->output_buffer])};
  if (target.shape != expect)
    throw InputError("target", "expected shape " + shape_to_string(expect) + ", got " +
                                   shape_to_string(target.shape));
  return impl_->train_step(options_, stats_, x, LossKind::MSE, {}, &target, grads);
}

}  // namespace spikeline::snn
