import Foundation
import TritonPackModels

extension Inference_ModelSequenceBatching.Control.Kind {
    package var tritonName: String {
        switch self {
        case .controlSequenceStart: "CONTROL_SEQUENCE_START"
        case .controlSequenceReady: "CONTROL_SEQUENCE_READY"
        case .controlSequenceEnd: "CONTROL_SEQUENCE_END"
        case .controlSequenceCorrid: "CONTROL_SEQUENCE_CORRID"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }
}

/// R15-R22: sequence batcher control tensors.
package struct SequenceControlRule: LintRule {
    public static let description = RuleDescription(
        identifier: "sequence-control", name: "Sequence batcher controls", severity: .error, phase: .poll,
        catalog: ["R15", "R16", "R17", "R18", "R19", "R20", "R21", "R22"],
        summary:
            "Each control tensor has a name and one kind; START, END and READY each appear once with exactly one two-entry *_false_true list; CORRID has a data type from UINT64, INT64, UINT32, INT32, STRING and no *_false_true.",
        tritonMessage:
            "sequence batching must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for {KIND} for {model}",
        triggering: [
            .config(
                "backend: \"python\"\nsequence_batching { ↓control_input [ { name: \"READY\" control [ { kind: CONTROL_SEQUENCE_READY } ] } ] }"
            ),
            .config(
                "backend: \"python\"\nsequence_batching { ↓control_input [ { name: \"S\" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] }, { name: \"S2\" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] } ] }"
            ),
            .config(
                "backend: \"python\"\nsequence_batching { ↓control_input [ { name: \"C\" control [ { kind: CONTROL_SEQUENCE_CORRID } ] } ] }"
            ),
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\nsequence_batching { control_input [ { name: \"S\" control [ { kind: CONTROL_SEQUENCE_START fp32_false_true: [ 0, 1 ] } ] }, { name: \"C\" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } ] } ] }"
            )
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard case .sequenceBatching(let batcher)? = config.schedulingChoice else { return }
        if let message = Self.firstError(batcher, model: config.name) {
            report.report(message, at: "sequence_batching.control_input")
        }
    }

    package static func firstError(_ batcher: Inference_ModelSequenceBatching, model: String) -> String? {
        var names = Set<String>()
        for input in batcher.controlInput {
            if input.name.isEmpty { return "sequence batching control tensor must have a name for \(model)" }
            if !names.insert(input.name).inserted {
                return "sequence batching control tensor '\(input.name)' is specified for multiple control kinds for \(model)"
            }
        }
        for kind in [
            Inference_ModelSequenceBatching.Control.Kind.controlSequenceStart, .controlSequenceEnd, .controlSequenceReady,
        ] {
            var found = false
            for input in batcher.controlInput {
                for control in input.control where control.kind == kind {
                    if found { return "sequence batching specifies multiple \(kind.tritonName) tensors for \(model)" }
                    found = true
                    let lists: [(String, Int)] = [
                        ("int32_false_true", control.int32FalseTrue.count), ("fp32_false_true", control.fp32FalseTrue.count),
                        ("bool_false_true", control.boolFalseTrue.count),
                    ]
                    let present = lists.filter { $0.1 > 0 }
                    if present.isEmpty {
                        return
                            "sequence batching must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for \(kind.tritonName) for \(model)"
                    }
                    if present.count > 1 {
                        return
                            "sequence batching specifies more than one from 'int32_false_true', 'fp32_false_true' and 'bool_false_true' for \(kind.tritonName) for \(model)"
                    }
                    if present[0].1 != 2 {
                        return
                            "sequence batching control '\(present[0].0)' must have exactly 2 entries for \(kind.tritonName) for \(model)"
                    }
                }
            }
        }
        var foundCorrelation = false
        for input in batcher.controlInput {
            for control in input.control where control.kind == .controlSequenceCorrid {
                if foundCorrelation { return "sequence batching specifies multiple CONTROL_SEQUENCE_CORRID tensors for \(model)" }
                foundCorrelation = true
                if !control.int32FalseTrue.isEmpty || !control.fp32FalseTrue.isEmpty || !control.boolFalseTrue.isEmpty {
                    return
                        "sequence batching must not specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for CONTROL_SEQUENCE_CORRID for \(model)"
                }
                if ![.typeUint64, .typeInt64, .typeUint32, .typeInt32, .typeString].contains(control.dataType) {
                    return
                        "unexpected data type for control CONTROL_SEQUENCE_CORRID for \(model). Allowed data types are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 and TYPE_STRING"
                }
            }
        }
        return nil
    }
}

/// R23, R24: sequence batcher strategies.
package struct SequenceStrategyRule: LintRule {
    public static let description = RuleDescription(
        identifier: "sequence-strategy", name: "Sequence batcher strategy", severity: .error, phase: .poll,
        catalog: ["R23", "R24"],
        summary:
            "The oldest strategy's preferred batch sizes must be in 1..max_batch_size; the direct strategy's minimum slot utilization in [0, 1].",
        tritonMessage: "sequence batching preferred batch size must be <= max batch size for {model}",
        triggering: [
            .config("backend: \"python\"\nmax_batch_size: 2\nsequence_batching { oldest { ↓preferred_batch_size: [ 4 ] } }"),
            .config("backend: \"python\"\nsequence_batching { direct { ↓minimum_slot_utilization: 1.5 } }"),
        ],
        nonTriggering: [
            .config("backend: \"python\"\nmax_batch_size: 4\nsequence_batching { oldest { preferred_batch_size: [ 4 ] } }")
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard case .sequenceBatching(let batcher)? = config.schedulingChoice else { return }
        switch batcher.strategyChoice {
        case .oldest(let oldest):
            if oldest.preferredBatchSize.contains(where: { $0 <= 0 }) {
                report.report(
                    "sequence batching preferred batch size must be positive for \(config.name)",
                    at: "sequence_batching.oldest.preferred_batch_size")
            } else if oldest.preferredBatchSize.contains(where: { $0 > config.maxBatchSize }) {
                report.report(
                    "sequence batching preferred batch size must be <= max batch size for \(config.name)",
                    at: "sequence_batching.oldest.preferred_batch_size")
            }
        case .direct(let direct):
            if direct.minimumSlotUtilization < 0 || direct.minimumSlotUtilization > 1 {
                report.report(
                    "sequence batching minimum slot utilization must be in range (0.0, 1.0] for \(config.name)",
                    at: "sequence_batching.direct.minimum_slot_utilization")
            }
        case nil:
            break
        }
    }
}

/// R101-R108, R110: implicit state of the sequence batcher.
package struct SequenceStateRule: LintRule {
    public static let description = RuleDescription(
        identifier: "sequence-state", name: "Sequence batcher state", severity: .error,
        catalog: ["R101", "R102", "R103", "R104", "R105", "R106", "R107", "R108", "R110"],
        summary:
            "Each state has at most one initial_state, named, of the state's type and rank, with fixed dims matching, and data (zero_data or a data_file under initial_state/ large enough).",
        tritonMessage:
            "initial_state field for state input '{in}' must contain exactly one or zero element. Found '{n}' elements.",
        triggering: [
            .config(
                "backend: \"python\"\nsequence_batching { state [ { input_name: \"in\" output_name: \"out\" data_type: TYPE_FP32 dims: [ 2 ] ↓initial_state [ { data_type: TYPE_INT32 dims: [ 2 ] zero_data: true name: \"s\" } ] } ] }"
            ),
            .config(
                "backend: \"python\"\nsequence_batching { state [ { input_name: \"in\" output_name: \"out\" data_type: TYPE_FP32 dims: [ 2 ] ↓initial_state [ { data_type: TYPE_FP32 dims: [ 2 ] zero_data: true } ] } ] }"
            ),
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\nsequence_batching { state [ { input_name: \"in\" output_name: \"out\" data_type: TYPE_FP32 dims: [ -1 ] initial_state [ { data_type: TYPE_FP32 dims: [ 2 ] zero_data: true name: \"s\" } ] } ] }"
            )
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard case .sequenceBatching(let batcher)? = config.schedulingChoice else { return }
        var seenInputs = Set<String>()
        var seenOutputs = Set<String>()
        for (index, state) in batcher.state.enumerated() {
            let field = "sequence_batching.state[\(index)]"
            let input = state.inputName
            if !seenInputs.insert(input).inserted {
                if !state.initialState.isEmpty {
                    report.report("State input name '\(input)' specified more than once.", at: field)
                } else {
                    report.report(
                        "Detected duplicate 'input_name' in the state configuration: '\(input).' This state configuration will be ignored.",
                        at: field, severity: .warning)
                }
                continue
            }
            if !seenOutputs.insert(state.outputName).inserted {
                report.report(
                    "Detected duplicate 'output_name' in the state configuration: '\(state.outputName)'. This state configuration will be ignored.",
                    at: field, severity: .warning)
            }
            if state.useGrowableMemory && !state.useSameBufferForInputOutput {
                report.report(
                    "In order to 'use_growable_memory', you must also enable 'use_single_buffer' for state input name '\(input)'.",
                    at: field, severity: .warning)
            }
            if state.initialState.count > 1 {
                report.report(
                    "initial_state field for state input '\(input)' must contain exactly one or zero element. Found '\(state.initialState.count)' elements.",
                    at: field)
                continue
            }
            guard let initial = state.initialState.first else { continue }
            if let message = initialStateError(initial, state: state, model: context.model) {
                report.report(message, at: "\(field).initial_state")
            }
        }
    }

    package func initialStateError(
        _ initial: Inference_ModelSequenceBatching.InitialState, state: Inference_ModelSequenceBatching.State,
        model: ModelUnderLint
    ) -> String? {
        let input = state.inputName
        if initial.dataType != state.dataType {
            return "The data type used for 'initial_state' field of state '\(input)' does not match the state data type."
        }
        if initial.name.isEmpty { return "Field 'name' must be set when using initial_state for state input '\(input)'." }
        if initial.dims.count != state.dims.count {
            return
                "Number of dimensions in 'initial_state' doesn't match the size of 'state' dimensions for state input '\(input)'. \(initial.dims.count) != \(state.dims.count)"
        }
        for (given, declared) in zip(initial.dims, state.dims) {
            if given == -1 {
                return "'initial_state' field for state input name '\(input)' contains variable dimensions."
            }
            if declared != -1 && given != declared {
                return
                    "'initial_state' dim for input name '\(input)' doesn't match 'state' dim description. \(given) != \(declared)"
            }
        }
        switch initial.stateData {
        case nil:
            return "initial_state setting expects state'\(input)' to have state_data set"
        case .zeroData:
            return nil
        case .dataFile(let file):
            let path = model.directory.appendingPathComponent("initial_state/\(file)").path
            guard let size = POSIXFiles.fileSize(path), POSIXFiles.isRegularFile(path) else {
                return "failed to open text file for read \(path): No such file or directory"
            }
            if let itemSize = initial.dataType.byteSize {
                let expected = initial.dims.reduce(Int64(1), *) * Int64(itemSize)
                if size < expected {
                    return
                        "initial_state setting expects \(expected) bytes, but the data provided from \(file)only has \(size) bytes."
                }
            }
            return nil
        }
    }
}
