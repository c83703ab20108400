// NNI search-space parsing, validation and prior sampling (hpo.md section 2.1).
#include "spikeline/hpo/search_space.hpp"

#include <cmath>
#include <set>

#include <fmt/format.h>

#include "spikeline/core/error.hpp"

namespace spikeline::hpo {

using ojson = nlohmann::ordered_json;

const char* param_type_name(ParamType t) noexcept {
  switch (t) {
    case ParamType::Choice: return "choice";
    case ParamType::Randint: return "randint";
    case ParamType::Uniform: return "uniform";
    case ParamType::Quniform: return "quniform";
    case ParamType::Loguniform: return "loguniform";
    case ParamType::Qloguniform: return "qloguniform";
    case ParamType::Normal: return "normal";
    case ParamType::Qnormal: return "qnormal";
    case ParamType::Lognormal: return "lognormal";
    case ParamType::Qlognormal: return "qlognormal";
  }
  return "?";
}

std::int64_t ParamSpec::size() const noexcept {
  if (type == ParamType::Choice) return static_cast<std::int64_t>(options.size());
  if (type == ParamType::Randint) return upper - lower;
  return 0;
}

bool ParamSpec::log() const noexcept {
  return type == ParamType::Loguniform || type == ParamType::Qloguniform ||
         type == ParamType::Lognormal || type == ParamType::Qlognormal;
}

bool ParamSpec::normal() const noexcept {
  return type == ParamType::Normal || type == ParamType::Qnormal || type == ParamType::Lognormal ||
         type == ParamType::Qlognormal;
}

double ParamSpec::finish(double x) const noexcept {
  // std::nearbyint honours the default rounding mode: round half to even, like Python's round.
  if (q > 0) x = std::nearbyint(x / q) * q;
  if (clipped()) x = std::min(std::max(x, low), high);
  return x;
}

double ParamSpec::sample_prior(Rng& rng) const {
  switch (type) {
    case ParamType::Choice:
    case ParamType::Randint: return static_cast<double>(rng.below(static_cast<std::uint64_t>(size())));
    case ParamType::Uniform:
    case ParamType::Quniform: return finish(low + (high - low) * rng.uniform());
    case ParamType::Loguniform:
    case ParamType::Qloguniform: {
      const double a = std::log(low), b = std::log(high);
      return finish(std::exp(a + (b - a) * rng.uniform()));
    }
    case ParamType::Normal:
    case ParamType::Qnormal: return finish(mu + sigma * rng.normal());
    case ParamType::Lognormal:
    case ParamType::Qlognormal: return finish(std::exp(mu + sigma * rng.normal()));
  }
  return 0;
}

namespace {

std::optional<ParamType> type_from_name(const std::string& s) {
  static constexpr ParamType all[] = {
      ParamType::Choice,      ParamType::Randint, ParamType::Uniform, ParamType::Quniform,
      ParamType::Loguniform,  ParamType::Qloguniform, ParamType::Normal, ParamType::Qnormal,
      ParamType::Lognormal,   ParamType::Qlognormal};
  for (ParamType t : all)
    if (s == param_type_name(t)) return t;
  return std::nullopt;
}

double finite_number(const ojson& v, const std::string& where, const char* what) {
  if (!v.is_number()) throw InputError(where, fmt::format("{} must be a number, got {}", what, v.dump()));
  const double x = v.get<double>();
  if (!std::isfinite(x)) throw InputError(where, fmt::format("{} must be finite", what));
  return x;
}

bool is_named_option(const ojson& v) { return v.is_object() && v.contains("_name"); }

class Parser {
 public:
  explicit Parser(std::string where) : where_(std::move(where)) {}
  std::vector<ParamSpec> specs;

  void space(const ojson& doc, const std::string& where, const std::string& prefix, int parent,
             int parent_option) {
    if (!doc.is_object()) throw InputError(where, "a search space must be a JSON object {name: {\"_type\": ..., \"_value\": [...]}}");
    bool any = false;
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      if (it.key() == "_name" && parent >= 0) continue;  // the option's own name
      any = true;
      parameter(it.key(), it.value(), where, prefix, parent, parent_option);
    }
    if (!any && parent < 0) throw InputError(where, "the search space has no parameters");
  }

 private:
  std::string where_;

  void parameter(const std::string& name, const ojson& def, const std::string& where,
                 const std::string& prefix, int parent, int parent_option) {
    const std::string path = prefix.empty() ? name : prefix + "/" + name;
    const std::string at = where + ": " + path;
    if (name.empty()) throw InputError(where, "a parameter name is empty");
    if (name == "_name") throw InputError(at, "\"_name\" is reserved for nested choice options");
    if (!def.is_object())
      throw InputError(at, "expected an object {\"_type\": ..., \"_value\": [...]}");
    for (auto it = def.begin(); it != def.end(); ++it)
      if (it.key() != "_type" && it.key() != "_value")
        throw InputError(at, fmt::format("unknown key \"{}\" (expected only _type and _value)", it.key()));
    if (!def.contains("_type") || !def["_type"].is_string())
      throw InputError(at, "\"_type\" is missing or not a string");
    const auto type = type_from_name(def["_type"].get<std::string>());
    if (!type)
      throw InputError(at, fmt::format("unknown _type \"{}\" (expected choice, randint, uniform, quniform, "
                                       "loguniform, qloguniform, normal, qnormal, lognormal or qlognormal)",
                                       def["_type"].get<std::string>()));
    if (!def.contains("_value") || !def["_value"].is_array())
      throw InputError(at, "\"_value\" is missing or not a list");
    ParamSpec spec;
    spec.name = name;
    spec.path = path;
    spec.type = *type;
    spec.parent = parent;
    spec.parent_option = parent_option;
    const ojson& v = def["_value"];
    if (*type == ParamType::Choice) {
      choice(spec, v, at);
      return;  // choice() appends the spec and its sub-spaces
    }
    if (*type == ParamType::Randint) randint(spec, v, at);
    else numeric(spec, v, at);
    specs.push_back(std::move(spec));
  }

  void choice(ParamSpec& spec, const ojson& v, const std::string& at) {
    if (v.empty()) throw InputError(at, "choice needs at least one option");
    std::size_t named = 0;
    for (const auto& o : v) named += is_named_option(o) ? 1 : 0;
    if (named != 0 && named != v.size())
      throw InputError(at, "nested choice: every option must be an object with \"_name\"");
    for (const auto& o : v)
      if (o.is_object() && !is_named_option(o))
        throw InputError(at, "a choice option that is an object must have \"_name\" (nested choice)");
    spec.nested = named != 0;
    spec.options.assign(v.begin(), v.end());
    const int self = static_cast<int>(specs.size());
    specs.push_back(spec);
    if (!spec.nested) return;
    std::set<std::string> names;
    for (std::size_t k = 0; k < v.size(); ++k) {
      const ojson& n = v[k]["_name"];
      if (!n.is_string()) throw InputError(at, fmt::format("option {}: \"_name\" must be a string", k));
      if (!names.insert(n.get<std::string>()).second)
        throw InputError(at, fmt::format("option {}: duplicate _name \"{}\"", k, n.get<std::string>()));
      space(v[k], where_, spec.path + "/" + n.get<std::string>(), self, static_cast<int>(k));
    }
  }

  static void randint(ParamSpec& spec, const ojson& v, const std::string& at) {
    if (v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer())
      throw InputError(at, "randint needs [lower, upper] as two integers (upper exclusive)");
    // Category indices are stored as doubles: keep every value exactly representable.
    constexpr std::int64_t limit = std::int64_t{1} << 53;
    for (const auto& x : v)
      if (x.is_number_unsigned() ? x.get<std::uint64_t>() > static_cast<std::uint64_t>(limit)
                                 : (x.get<std::int64_t>() < -limit || x.get<std::int64_t>() > limit))
        throw InputError(at, "randint bounds must lie within +-2^53");
    spec.lower = v[0].get<std::int64_t>();
    spec.upper = v[1].get<std::int64_t>();
    if (spec.lower >= spec.upper)
      throw InputError(at, fmt::format("randint needs lower < upper (upper is exclusive), got [{}, {}]",
                                       spec.lower, spec.upper));
  }

  static void numeric(ParamSpec& spec, const ojson& v, const std::string& at) {
    const bool quant = param_type_name(spec.type)[0] == 'q';
    const std::size_t n = quant ? 3 : 2;
    const char* shape = spec.normal() ? (quant ? "[mu, sigma, q]" : "[mu, sigma]")
                                      : (quant ? "[low, high, q]" : "[low, high]");
    if (v.size() != n)
      throw InputError(at, fmt::format("{} needs {} numbers {}, got {}", param_type_name(spec.type), n, shape,
                                       v.size()));
    const double a = finite_number(v[0], at, spec.normal() ? "mu" : "low");
    const double b = finite_number(v[1], at, spec.normal() ? "sigma" : "high");
    if (quant) {
      spec.q = finite_number(v[2], at, "q");
      if (!(spec.q > 0)) throw InputError(at, fmt::format("q must be > 0, got {}", spec.q));
    }
    if (spec.normal()) {
      spec.mu = a;
      spec.sigma = b;
      if (!(b > 0)) throw InputError(at, fmt::format("sigma must be > 0, got {}", b));
      return;
    }
    spec.low = a;
    spec.high = b;
    if (!(a < b)) throw InputError(at, fmt::format("needs low < high, got [{}, {}]", a, b));
    if (!std::isfinite(b - a)) throw InputError(at, "the range high - low overflows a double");
    if (spec.log() && !(a > 0))
      throw InputError(at, fmt::format("{} needs low > 0, got {}", param_type_name(spec.type), a));
  }
};

}  // namespace

SearchSpace SearchSpace::parse(const ojson& doc, const std::string& where) {
  Parser p(where);
  p.space(doc, where, "", -1, -1);
  SearchSpace s;
  s.doc_ = doc;
  s.specs_ = std::move(p.specs);
  return s;
}

SearchSpace SearchSpace::parse_text(std::string_view json_text, const std::string& where) {
  ojson doc;
  try {
    doc = ojson::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where, fmt::format("invalid JSON: {}", e.what()));
  }
  return parse(doc, where);
}

bool SearchSpace::active(std::size_t i, const Point& p) const {
  const ParamSpec& s = specs_[i];
  if (s.parent < 0) return true;
  const auto& pv = p[static_cast<std::size_t>(s.parent)];
  return pv.has_value() && static_cast<int>(*pv) == s.parent_option;
}

Point SearchSpace::sample_point(Rng& rng) const {
  Point p(specs_.size());
  for (std::size_t i = 0; i < specs_.size(); ++i)
    if (active(i, p)) p[i] = specs_[i].sample_prior(rng);
  return p;
}

namespace {

ojson value_of(const ParamSpec& s, double x) {
  if (s.type == ParamType::Randint) return s.lower + static_cast<std::int64_t>(x);
  if (s.type == ParamType::Choice) {
    const ojson& o = s.options[static_cast<std::size_t>(x)];
    return s.nested ? ojson{{"_name", o["_name"]}} : o;
  }
  return x;
}

void fill(const std::vector<ParamSpec>& specs, const Point& p, int parent, int option, ojson& out) {
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const ParamSpec& s = specs[i];
    if (s.parent != parent || s.parent_option != option || !p[i]) continue;
    ojson v = value_of(s, *p[i]);
    if (s.nested) fill(specs, p, static_cast<int>(i), static_cast<int>(*p[i]), v);
    // Names are unique within their object: append without ordered_map's linear key search.
    out.get_ref<ojson::object_t&>().emplace_back(s.name, std::move(v));
  }
}

}  // namespace

Parameters SearchSpace::to_parameters(const Point& p) const {
  ojson out = ojson::object();
  fill(specs_, p, -1, -1, out);
  return out;
}

Point SearchSpace::to_point(const Parameters& params, const std::string& where) const {
  Point p(specs_.size());
  // Each spec's container: the top-level object or its nested parent's chosen option object.
  std::vector<const ojson*> container(specs_.size(), nullptr);
  if (!params.is_object()) throw InputError(where, "parameters must be a JSON object");
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (!active(i, p)) continue;
    const ParamSpec& s = specs_[i];
    const ojson& obj = s.parent < 0 ? params : *container[static_cast<std::size_t>(s.parent)];
    const std::string at = where + ": " + s.path;
    const auto found = obj.is_object() ? obj.find(s.name) : obj.end();
    if (found == obj.end()) throw InputError(at, "missing");
    const ojson& v = *found;
    container[i] = &v;
    if (s.type == ParamType::Choice) {
      for (std::size_t k = 0; k < s.options.size() && !p[i]; ++k) {
        const bool match = s.nested ? (v.is_object() && v.contains("_name") && v["_name"] == s.options[k]["_name"])
                                    : v == s.options[k];
        if (match) p[i] = static_cast<double>(k);
      }
      if (!p[i]) throw InputError(at, fmt::format("{} is not one of the choice options", v.dump()));
    } else if (s.type == ParamType::Randint) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < s.lower || v.get<std::int64_t>() >= s.upper)
        throw InputError(at, fmt::format("expected an integer in [{}, {}), got {}", s.lower, s.upper, v.dump()));
      p[i] = static_cast<double>(v.get<std::int64_t>() - s.lower);
    } else {
      const double x = finite_number(v, at, "value");
      // exp(log(low)) may land an ulp outside the bounds: allow that much, nothing more.
      const double slack = 1e-12 * std::max(std::abs(s.low), std::abs(s.high));
      if (!s.normal() && (x < s.low - slack || x > s.high + slack))
        throw InputError(at, fmt::format("{} is outside [{}, {}]", x, s.low, s.high));
      if (s.log() && !(x > 0) && s.type != ParamType::Qlognormal)
        throw InputError(at, fmt::format("{} must be > 0", x));
      p[i] = x;
    }
  }
  return p;
}

std::string canonical_key(const Parameters& params) {
  // nlohmann::json keeps object keys sorted; its number output round-trips exactly.
  return nlohmann::json(params).dump();
}

}  // namespace spikeline::hpo
