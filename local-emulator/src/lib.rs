//! The whole switch offline on one machine: stand-ins for the Functions host, Event Hubs and the API Management edge.
