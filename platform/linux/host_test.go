package linux

import (
	"reflect"
	"testing"

	"github.com/bpfhost/bpfhost/platform"
)

// TestHostStructs checks that the Go structures the runtime fills have
// exactly the layouts the rewriter targets.
func TestHostStructs(t *testing.T) {
	tests := []struct {
		layout *platform.HostLayout
		goType reflect.Type
		names  map[string]string // context field -> Go field
	}{
		{xdpHost, reflect.TypeOf(XDPContext{}), map[string]string{
			"data": "Data", "data_end": "DataEnd", "data_meta": "DataMeta",
			"ingress_ifindex": "IngressIfindex", "rx_queue_index": "RxQueueIndex", "egress_ifindex": "EgressIfindex",
		}},
		{skbHost, reflect.TypeOf(SKBContext{}), map[string]string{
			"len": "Len", "pkt_type": "PktType", "mark": "Mark", "queue_mapping": "QueueMapping",
			"protocol": "Protocol", "vlan_present": "VlanPresent", "vlan_tci": "VlanTCI", "vlan_proto": "VlanProto",
			"priority": "Priority", "ingress_ifindex": "IngressIfindex", "ifindex": "Ifindex", "tc_index": "TCIndex",
			"cb": "CB", "hash": "Hash", "tc_classid": "TCClassid", "napi_id": "NapiID", "family": "Family",
			"remote_ip4": "RemoteIP4", "local_ip4": "LocalIP4", "remote_ip6": "RemoteIP6", "local_ip6": "LocalIP6",
			"remote_port": "RemotePort", "local_port": "LocalPort", "wire_len": "WireLen", "gso_segs": "GSOSegs",
			"gso_size": "GSOSize", "tstamp_type": "TstampType", "data": "Data", "data_end": "DataEnd",
			"data_meta": "DataMeta", "flow_keys": "FlowKeys", "tstamp": "Tstamp", "sk": "SK", "hwtstamp": "Hwtstamp",
		}},
		{sockAddrHost, reflect.TypeOf(SockAddrContext{}), map[string]string{
			"user_family": "UserFamily", "user_ip4": "UserIP4", "user_ip6": "UserIP6", "user_port": "UserPort",
			"family": "Family", "type": "Type", "protocol": "Protocol", "msg_src_ip4": "MsgSrcIP4",
			"msg_src_ip6": "MsgSrcIP6", "sk": "SK",
		}},
		{sockHost, reflect.TypeOf(SockContext{}), map[string]string{
			"bound_dev_if": "BoundDevIf", "family": "Family", "type": "Type", "protocol": "Protocol",
			"mark": "Mark", "priority": "Priority", "src_ip4": "SrcIP4", "src_ip6": "SrcIP6", "src_port": "SrcPort",
			"dst_port": "DstPort", "dst_ip4": "DstIP4", "dst_ip6": "DstIP6", "state": "State",
			"rx_queue_mapping": "RxQueueMapping",
		}},
	}
	for _, tt := range tests {
		if got := int(tt.goType.Size()); got != tt.layout.Size {
			t.Errorf("%s: Go size %d, layout size %d", tt.layout.Name, got, tt.layout.Size)
		}
		if len(tt.names) != len(tt.layout.Fields) {
			t.Errorf("%s: %d names for %d fields", tt.layout.Name, len(tt.names), len(tt.layout.Fields))
		}
		for _, hf := range tt.layout.Fields {
			goName, ok := tt.names[hf.Name]
			if !ok {
				t.Errorf("%s: no Go field for %s", tt.layout.Name, hf.Name)
				continue
			}
			sf, ok := tt.goType.FieldByName(goName)
			if !ok {
				t.Errorf("%s has no field %s", tt.goType, goName)
				continue
			}
			size := int(sf.Type.Size())
			if hf.Name == "dst_port" {
				size = 4 // __be16 and the padding after it, read together as a slot
			}
			if int(sf.Offset) != hf.Offset || size != hf.Size {
				t.Errorf("%s.%s: Go offset %d size %d, layout offset %d size %d",
					tt.goType, goName, sf.Offset, size, hf.Offset, hf.Size)
			}
		}
	}
}
