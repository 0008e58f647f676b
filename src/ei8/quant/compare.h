// ei8/quant/compare.h — where two runs of a model part ways: every named tensor of run A against
// the same tensor of run B, graph-wise (both run end to end) or layer-wise (each layer of B fed
// A's version of that layer's inputs), and the first tensor beyond a tolerance.
//
// A "run" is a model executed by one engine — FP32, the QDQ simulation on the FP32 executor, or
// the integer engine in one requantization profile — or a tensor dump: a directory of `.npy`
// files named by tensor (`edgeint8 run --dump DIR` writes one, with a manifest; any engine's
// dump without a manifest is accepted too).
//
// Tensor names are the float model's value names ("canonical"): in a QDQ graph the tensor of a
// QuantizeLinear node is named after the value it quantizes (or, for a graph output, after the
// DequantizeLinear output that keeps the output's name); in the integer graph after lowering the
// same tensor is the code the fused integer node writes. Quantized tensors carry their per-tensor
// scale and zero point, so differences can be counted in output LSB (one quantization step).
//
//   EI8_ASSIGN_OR_RETURN(ProbedModel a, ProbedModel::create(float_graph, {.engine =
//   Engine::kFloat})); EI8_ASSIGN_OR_RETURN(ProbedModel b, ProbedModel::create(qdq_graph, {.engine
//   = Engine::kInt8})); EI8_ASSIGN_OR_RETURN(TensorSet ta, a.run(x));
//   EI8_ASSIGN_OR_RETURN(TensorSet tb, b.run(x));              // graph-wise
//   EI8_ASSIGN_OR_RETURN(TensorSet lb, b.run_fed(x, ta));      // layer-wise
//   EI8_ASSIGN_OR_RETURN(Comparison c, compare_tensor_sets(ta, tb, {}));
//   if (c.first_divergence) fmt::print("{}\n", c.first_divergence->tensor);
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ei8/core/status.h"
#include "ei8/core/tensor.h"
#include "ei8/fixedpoint/requantize.h"
#include "ei8/graph/graph.h"
#include "ei8/quant/quant_math.h"

namespace ei8::quant {

// One tensor of a run: its real values (f32; quantized codes are dequantized, r = s·(q − z))
// and, when it held codes, their per-tensor parameters and type.
struct ProbedTensor {
  std::string name;
  Tensor values;                  // f32
  std::optional<QuantParams> q;   // set when the tensor was quantized
  DType code_type = DType::kF32;  // u8 / s8 when quantized
};

struct TensorSet {
  std::string source;                 // "fp32 model.onnx", "int8 (ort) m.onnx", "dump DIR"
  std::vector<ProbedTensor> tensors;  // in topological order (a dump: its manifest's order)
  bool ordered = true;                // false: a dump without manifest (files in name order)
  const ProbedTensor* find(std::string_view name) const;
};

enum class Engine {
  kFloat,       // FP32 executor: float graphs as they are, QDQ graphs as the QDQ simulation
                // following the profile's contract (simulate.h: exact accumulator, the
                // profile's requantizer) — 0 LSB from the integer engine of that profile
  kInt8,        // QDQ graphs lowered to the integer engine (float graphs run FP32)
  kFloatPlain,  // the plain QDQ simulation (float sums, Q divides by the scale)
};
std::string_view engine_name(Engine e);  // "float", "int8", "float-plain"
Result<Engine> parse_engine(std::string_view name);

struct ProbeOptions {
  Engine engine = Engine::kInt8;
  // The integer engine's requantization profile, and the one the `float` simulation follows.
  fixedpoint::RequantProfile profile = fixedpoint::RequantProfile::kOrt;
  std::string label;  // for TensorSet::source; "" = derived from the engine
};

// A model prepared so that every named tensor can be read (and, layer-wise, replaced).
class ProbedModel {
 public:
  // `model`: a float graph (optimized here: BN folded, activations fused, as PTQ saw it) or a QDQ
  // graph (ptq.h, or an imported QDQ file). One graph input. Errors: more than one input, a QDQ
  // graph the engine cannot lower or run.
  static Result<ProbedModel> create(const Graph& model, const ProbeOptions& options);

  // Graph-wise: runs the model end to end on `x` [N, ...] and returns every tensor.
  Result<TensorSet> run(const Tensor& x) const;
  // Layer-wise: every tensor that `feed` also holds is cut out of the graph and replaced, for
  // its readers, by feed's values (quantized with this model's parameters where this model
  // holds codes); so each layer computes from feed's version of its inputs. Returns every
  // tensor this model computes (tensors not in `feed` are computed from upstream as usual).
  // Errors: a fed tensor whose shape differs from this model's (names both).
  Result<TensorSet> run_fed(const Tensor& x, const TensorSet& feed) const;

  const std::string& label() const { return label_; }
  size_t num_tensors() const { return probes_.size(); }
  // Layers the simulation left plain or whose float accumulator may round (simulate.h).
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  struct Probe {
    std::string name;   // canonical
    std::string value;  // value of graph_ holding it
    std::optional<QuantParams> q;
    DType type = DType::kF32;
  };
  Result<TensorSet> execute(Graph g, const std::vector<Tensor>& inputs) const;
  Graph graph_;  // executed graph: optimized float, QDQ simulation or integer graph
  std::vector<Probe> probes_;
  std::string label_;
  std::vector<std::string> notes_;
  bool integer_ = false;
};

// Writes `s` into `dir` (created): one `<name>.npy` (f32 real values) per tensor, the name made
// file-safe (characters outside [A-Za-z0-9._-] become '_'), and `manifest.json` listing the
// tensors in order with file, scale and zero point. Errors name the file.
Status write_dump(const TensorSet& s, const std::string& dir);
// Reads a dump: with `manifest.json`, its tensors in its order; otherwise every `*.npy` file,
// named by its file stem, in name order. Integer arrays (u8/s8) without parameters are codes
// whose parameters come from the run they are compared with. Errors: missing directory, no
// tensors, an unreadable file (named).
Result<TensorSet> read_dump(const std::string& dir);
// The file-safe form of a tensor name used by dumps (and by the matching of dump names).
std::string dump_file_stem(std::string_view name);

struct CompareOptions {
  // A tensor diverges when max |Δ| exceeds `tolerance_lsb` steps of its quantization scale; a
  // tensor without a scale (float in both runs) when max |Δ| > rel_tolerance·max|A|; and, with
  // min_sqnr_db set (finite), any tensor whose SQNR is below it.
  double tolerance_lsb = 1.0;
  double rel_tolerance = 1e-5;
  double min_sqnr_db = -std::numeric_limits<double>::infinity();
};

struct TensorComparison {
  std::string name;
  Shape shape;
  int64_t elements = 0;
  double sqnr_db = 0.0;      // 10·log10(Σa² / Σ(a − b)²); +inf when equal
  double cosine = 1.0;       // ⟨a, b⟩ / (‖a‖·‖b‖); 1 when both are zero
  double max_abs = 0.0;      // max |a − b| (real units)
  double lsb = 0.0;          // quantization step (B's scale, else A's); NaN when float in both
  double max_abs_lsb = 0.0;  // max |a − b| / lsb; NaN without lsb
  double beyond_1lsb = 0.0;  // share of elements with |a − b| > 1 lsb; NaN without lsb
  bool diverged = false;     // beyond the tolerance of CompareOptions
};

struct Divergence {
  std::string tensor;
  int64_t flat_index = 0;      // row-major
  std::vector<int64_t> index;  // per dimension
  double a = 0.0, b = 0.0;     // the values there
};

struct Comparison {
  std::string a_source, b_source;
  std::vector<TensorComparison> tensors;       // tensors in both runs, in A's order (B's when A
                                               // is a dump without order)
  std::optional<Divergence> first_divergence;  // first tensor beyond the tolerance
  std::vector<std::string> only_a, only_b;     // names held by one run only
};

// Compares every tensor present in both sets. Errors: no tensor in common; a tensor whose shape
// (or element count) differs between A and B — naming the tensor and both shapes.
Result<Comparison> compare_tensor_sets(const TensorSet& a, const TensorSet& b,
                                       const CompareOptions& options);

}  // namespace ei8::quant
